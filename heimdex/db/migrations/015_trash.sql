-- A deleted video waits in the Trash (heimdex.library.trash) for 30 days, restorable: only its row and its
-- uploaded file are kept, everything derived from it goes at once. NULL: not in the Trash. Upkeep empties
-- the Trash by age, so the videos in it are indexed by when they went there.
ALTER TABLE videos ADD COLUMN trashed_at timestamptz;
CREATE INDEX videos_trashed_idx ON videos (trashed_at) WHERE trashed_at IS NOT NULL;
