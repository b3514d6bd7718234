-- People suggested by clustering have no name until the user gives one. A person's
-- reference faces are rows without a scene: from a photo (crop kept under the user's
-- prefix), or copied from a video's face (they go when that video is deleted, and
-- survive its re-indexing).
ALTER TABLE people ALTER COLUMN name DROP NOT NULL;
CREATE UNIQUE INDEX people_name_idx ON people (user_id, lower(name)) WHERE name IS NOT NULL;
ALTER TABLE faces ADD COLUMN video_id uuid REFERENCES videos (id) ON DELETE CASCADE;
ALTER TABLE faces ADD COLUMN crop text;
ALTER TABLE faces DROP COLUMN cluster_id;
CREATE INDEX faces_video_idx ON faces (video_id) WHERE video_id IS NOT NULL;
