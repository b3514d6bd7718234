-- Each on-screen line with when it is visible (first and last second it was seen), so a search
-- result starts where the text appears rather than where its scene starts. Scenes indexed before
-- this have none: their results keep the scene's start until they are indexed again.
ALTER TABLE scenes ADD COLUMN ocr_lines jsonb NOT NULL DEFAULT '[]';  -- [{"text", "s", "e"}]
