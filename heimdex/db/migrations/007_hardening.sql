-- A browser-playable copy of a video the browser cannot play as uploaded (H.264/AAC MP4).
ALTER TABLE videos ADD COLUMN proxy_key text;

-- Failed sign-ins per account key (a hash of the e-mail, known or not): lockout with backoff.
CREATE TABLE sign_in_failures (
    key          text PRIMARY KEY,
    failures     integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    last_at      timestamptz NOT NULL DEFAULT now()
);

-- Blobs whose rows are gone but whose deletion failed (disk read-only, S3 away): deleted later.
CREATE TABLE orphan_blobs (
    key   text PRIMARY KEY,          -- a key, or a prefix ending in '/'
    since timestamptz NOT NULL DEFAULT now()
);
