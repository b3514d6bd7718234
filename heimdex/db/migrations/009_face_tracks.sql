-- Faces followed through a scene: each track is one person on screen from start_s to end_s and
-- what they did (actions: [{tag, confidence, source}]). A scene face belongs to its scene's track
-- ``track``; scene_people keeps when each person is on screen (seen: [[start_s, end_s], ...]) and
-- what they did there, so "Minji waving" asks whether Minji is the one waving.
CREATE TABLE face_tracks (
    scene_id  bigint NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,
    idx       integer NOT NULL,
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    start_s   double precision NOT NULL,
    end_s     double precision NOT NULL,
    actions   jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (scene_id, idx)
);
CREATE INDEX face_tracks_user_idx ON face_tracks (user_id);
ALTER TABLE faces ADD COLUMN track integer;
ALTER TABLE scene_people ADD COLUMN seen jsonb NOT NULL DEFAULT '[]';
ALTER TABLE scene_people ADD COLUMN actions text[] NOT NULL DEFAULT '{}';
