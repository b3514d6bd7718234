-- Jobs on a queue: the queue's own id for the job, and a cancel request the running job polls.
ALTER TABLE jobs
    ADD COLUMN queue_id text,                                -- the RQ job id (NULL in-process)
    ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false;
CREATE INDEX jobs_state_idx ON jobs (state, heartbeat_at);
