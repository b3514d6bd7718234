-- Rate limits count the actions of the last window, not of a window fixed to the clock: with fixed
-- windows the 30 clips allowed in ten minutes could be cut twice over in a few seconds across a
-- window's turn (30 before it, 30 after). One row per allowed action, the refused ones not kept;
-- each count reads at most a window's allowance of rows. Old rows go in upkeep.
DROP TABLE rate_limits;
CREATE TABLE rate_limits (
    bucket  text NOT NULL,                  -- e.g. 'sign_in:<client address>', 'search:<user id>'
    at      timestamptz NOT NULL,
    user_id uuid REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX rate_limits_bucket_idx ON rate_limits (bucket, at);
CREATE INDEX rate_limits_at_idx ON rate_limits (at);
CREATE INDEX rate_limits_user_idx ON rate_limits (user_id) WHERE user_id IS NOT NULL;
