-- Heimdex schema, first version.
-- Every table that holds a user's data reaches users(id) through ON DELETE CASCADE,
-- so deleting a user or a video removes every row that belongs to it.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    display_name  text NOT NULL DEFAULT '',
    password_hash text,                          -- argon2id; NULL for Supabase accounts
    auth_provider text NOT NULL DEFAULT 'local' CHECK (auth_provider IN ('local', 'supabase')),
    external_id   text,                          -- Supabase user id
    tier          text NOT NULL DEFAULT 'free',
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_lower CHECK (email = lower(email))
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE UNIQUE INDEX users_external_key ON users (auth_provider, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE sessions (
    id           bigserial PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE,          -- sha256 of the opaque token; the token itself is never stored
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE videos (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title         text NOT NULL,
    filename      text NOT NULL,                 -- as uploaded, display only; never a path
    sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes    bigint NOT NULL CHECK (size_bytes > 0),
    blob_key      text NOT NULL,
    container     text NOT NULL,
    duration_s    double precision NOT NULL CHECK (duration_s > 0),
    width         integer NOT NULL,
    height        integer NOT NULL,
    fps           double precision,
    is_vfr        boolean NOT NULL DEFAULT false,
    rotation      integer NOT NULL DEFAULT 0,
    video_codec   text NOT NULL,
    audio_codec   text,
    has_audio     boolean NOT NULL,
    language      text,                          -- requested language; NULL means detect
    state         text NOT NULL DEFAULT 'uploaded'
                  CHECK (state IN ('uploaded', 'queued', 'processing', 'indexed', 'failed', 'deleted')),
    error_code    text,
    error_message text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    indexed_at    timestamptz,
    UNIQUE (user_id, sha256)
);
CREATE INDEX videos_user_created_idx ON videos (user_id, created_at DESC);

CREATE TABLE scenes (
    id            bigserial PRIMARY KEY,
    video_id      uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    idx           integer NOT NULL,
    start_s       double precision NOT NULL,
    end_s         double precision NOT NULL,
    transcript    text NOT NULL DEFAULT '',
    words         jsonb NOT NULL DEFAULT '[]',   -- [{"w": word, "s": start, "e": end}]
    ocr_text      text NOT NULL DEFAULT '',
    tags          jsonb NOT NULL DEFAULT '[]',   -- [{"tag", "confidence", "source"}]
    keyframe_key  text,
    UNIQUE (video_id, idx),
    CHECK (end_s > start_s)
);

-- Which model produced a vector: a new model means new rows, never a silent mix.
CREATE TABLE embedding_models (
    id         serial PRIMARY KEY,
    name       text NOT NULL,
    version    text NOT NULL,
    dim        integer NOT NULL CHECK (dim > 0),
    UNIQUE (name, version)
);

-- Untyped vector column: models of different dimensions live side by side.
-- Search adds per-model expression indexes (embedding::vector(dim)) where they pay.
CREATE TABLE scene_vectors (
    scene_id   bigint NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,
    model_id   integer NOT NULL REFERENCES embedding_models (id),
    channel    text NOT NULL,                    -- transcript, ocr, visual, ...
    embedding  vector NOT NULL,
    PRIMARY KEY (scene_id, model_id, channel)
);

CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    video_id     uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    state        text NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    stage        text,
    progress     real NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    attempts     integer NOT NULL DEFAULT 0,
    error        text,
    worker       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    heartbeat_at timestamptz
);
CREATE INDEX jobs_video_idx ON jobs (video_id, created_at DESC);

CREATE TABLE people (
    id         bigserial PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX people_user_idx ON people (user_id);

CREATE TABLE faces (
    id          bigserial PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scene_id    bigint REFERENCES scenes (id) ON DELETE CASCADE,    -- NULL for enrollment photos
    person_id   bigint REFERENCES people (id) ON DELETE CASCADE,
    box         integer[] NOT NULL,                                 -- left, top, right, bottom
    descriptor  vector(128) NOT NULL,
    quality     real NOT NULL,
    cluster_id  integer,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX faces_user_idx ON faces (user_id);
CREATE INDEX faces_scene_idx ON faces (scene_id);

CREATE TABLE scene_people (
    scene_id   bigint NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,
    person_id  bigint NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    distance   real NOT NULL,
    PRIMARY KEY (scene_id, person_id)
);

CREATE TABLE audit_events (
    id         bigserial PRIMARY KEY,
    user_id    uuid REFERENCES users (id) ON DELETE CASCADE,   -- NULL when the actor is unknown
    event      text NOT NULL,
    detail     jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_user_idx ON audit_events (user_id, created_at DESC);

CREATE TABLE rate_limits (
    bucket       text NOT NULL,                  -- e.g. 'login:<email hash>', 'search:<user id>'
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL DEFAULT 0,
    user_id      uuid REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (bucket, window_start)
);
