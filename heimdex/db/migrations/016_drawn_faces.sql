-- How drawn each face looks (heimdex.perception.faces.drawn_score, 0..1: the share of its changing pixels that
-- change sharply, as outlines do). Faces of cartoons and caricatures never found a suggested person. Faces
-- indexed before this have none (taken as photographed) until their video is indexed again.
ALTER TABLE faces ADD COLUMN drawn real;
