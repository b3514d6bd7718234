-- Indexing: each run writes its blobs under its own prefix and becomes current only
-- when its rows commit; shot boundaries are kept beside the scenes built from them.

ALTER TABLE videos
    ADD COLUMN error_stage text,                 -- the pipeline stage that failed
    ADD COLUMN index_run   text;                 -- the committed run: u/<user>/v/<video>/r/<index_run>/

ALTER TABLE scenes
    ADD COLUMN keyframes jsonb NOT NULL DEFAULT '[]';   -- [{"t": seconds, "key": blob key}]

CREATE TABLE shots (
    video_id  uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    idx       integer NOT NULL,
    start_s   double precision NOT NULL,
    end_s     double precision NOT NULL,
    cut       text NOT NULL CHECK (cut IN ('start', 'cut', 'fade')),   -- how this shot began
    PRIMARY KEY (video_id, idx),
    CHECK (end_s > start_s)
);
