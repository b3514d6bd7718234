-- A sentence per scene composed from its visual tags ("A man in a blue t-shirt, smiling."), shown
-- with results; it is embedded beside the tags (scene_vectors channel 'tags', chunk 1).
ALTER TABLE scenes ADD COLUMN caption text NOT NULL DEFAULT '';
