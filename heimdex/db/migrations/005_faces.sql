-- Faces found while indexing: when in the scene they were seen (the keyframe's time).
ALTER TABLE faces ADD COLUMN t double precision;
CREATE INDEX faces_person_idx ON faces (person_id) WHERE person_id IS NOT NULL;
