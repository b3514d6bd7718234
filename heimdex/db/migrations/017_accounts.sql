-- Accounts as promised (heimdex.auth): verified e-mail, one-time links, sessions that renew, data exports.

-- When the owner proved the address (a link sent to it). Accounts made before verification existed, and those
-- of Supabase Auth (which verifies on its own), count as verified.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
UPDATE users SET email_verified_at = created_at;

-- One-time links sent by mail: verify the address (24 h), reset the password (1 h), sign in (15 min). Only the
-- token's sha256 is kept; a token is spent by setting used_at, once.
CREATE TABLE account_tokens (
    id          bigserial PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (purpose IN ('verify', 'reset', 'magic')),
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose);

-- A session is now a family of tokens: short-lived access tokens and a refresh token that is replaced each time
-- it is used. Reusing a replaced refresh token (it was stolen) ends the whole family. The session row keeps the
-- device it began on and when it was last seen; signed links still die with the session (its id).
ALTER TABLE sessions ALTER COLUMN token_hash DROP NOT NULL;
ALTER TABLE sessions ADD COLUMN user_agent text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE sessions ADD COLUMN ended_by text;  -- sign_out, sign_out_everywhere, password, refresh_reuse, ...
UPDATE sessions SET revoked_at = now(), ended_by = 'upgrade' WHERE revoked_at IS NULL;  -- sign in once again
UPDATE sessions SET token_hash = NULL;

CREATE TABLE session_tokens (
    token_hash  bytea PRIMARY KEY,               -- sha256; the token itself is never stored
    session_id  bigint NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('access', 'refresh')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,                     -- a refresh token, once exchanged for the next
    reused_at   timestamptz                      -- ... and once more within the grace (the same page asking twice)
);
CREATE INDEX session_tokens_session_idx ON session_tokens (session_id);

-- Download my data: a zip built by a job, kept export_hours, then deleted by upkeep.
CREATE TABLE exports (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'ready', 'failed', 'expired')),
    progress     real NOT NULL DEFAULT 0,
    bytes        bigint,
    blob_key     text,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    expires_at   timestamptz
);
CREATE INDEX exports_user_idx ON exports (user_id, created_at DESC);
