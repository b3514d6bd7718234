-- Clips their owner chose to let anyone with the link watch. The link carries the row's id and a
-- signature over it (heimdex.public), so this table holds no credential; turning a link off deletes
-- its row, and deleting the video or the account deletes its rows. The cut clip is a blob under the
-- video's prefix, so it goes with the video.
CREATE TABLE public_clips (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id    uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    start_s     double precision NOT NULL CHECK (start_s >= 0),
    end_s       double precision NOT NULL CHECK (end_s > start_s),
    blob_key    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (video_id, start_s, end_s)
);
CREATE INDEX public_clips_user ON public_clips (user_id, created_at DESC);
