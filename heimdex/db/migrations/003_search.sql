-- Moment search: each scene carries its owner (so every search is one index range per user)
-- and full-text documents per channel. English is stemmed; Hangul, which PostgreSQL cannot
-- split into words, is indexed as character bigrams, so 고양이 finds 고양이가.

CREATE FUNCTION hangul_bigrams(doc text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(string_agg(CASE WHEN length(m[1]) = 1 THEN m[1] ELSE substr(m[1], i, 2) END, ' '), '')
    FROM regexp_matches(doc, '[가-힣]+', 'g') AS m
    CROSS JOIN LATERAL generate_series(1, greatest(length(m[1]) - 1, 1)) AS i
$$;

-- The search document of one text: English stems plus Hangul bigrams.
CREATE FUNCTION search_document(doc text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT to_tsvector('english', doc) || to_tsvector('simple', hangul_bigrams(doc))
$$;

-- Any of a query's terms (English stems or Hangul bigrams) matches; ranking rewards more of them.
CREATE FUNCTION any_term(query tsquery) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT replace(query::text, ' & ', ' | ')::tsquery
$$;

CREATE FUNCTION search_query(query text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT any_term(plainto_tsquery('english', query)) || any_term(plainto_tsquery('simple', hangul_bigrams(query)))
$$;

ALTER TABLE videos ADD COLUMN spoken_language text;   -- what ASR heard; NULL when nothing was said

ALTER TABLE scenes ADD COLUMN user_id uuid REFERENCES users (id) ON DELETE CASCADE;
UPDATE scenes s SET user_id = v.user_id FROM videos v WHERE v.id = s.video_id;
ALTER TABLE scenes ALTER COLUMN user_id SET NOT NULL;
ALTER TABLE scenes ADD COLUMN tag_text text NOT NULL DEFAULT '';
ALTER TABLE scenes
    ADD COLUMN transcript_tsv tsvector GENERATED ALWAYS AS (search_document(transcript)) STORED,
    ADD COLUMN ocr_tsv tsvector GENERATED ALWAYS AS (search_document(ocr_text)) STORED,
    ADD COLUMN tags_tsv tsvector GENERATED ALWAYS AS (search_document(tag_text)) STORED;
CREATE INDEX scenes_user_idx ON scenes (user_id, video_id, idx);
CREATE INDEX scenes_transcript_tsv_idx ON scenes USING gin (transcript_tsv);
CREATE INDEX scenes_ocr_tsv_idx ON scenes USING gin (ocr_tsv);
CREATE INDEX scenes_tags_tsv_idx ON scenes USING gin (tags_tsv);

ALTER TABLE scene_vectors ADD COLUMN user_id uuid REFERENCES users (id) ON DELETE CASCADE;
UPDATE scene_vectors sv SET user_id = s.user_id FROM scenes s WHERE s.id = sv.scene_id;
ALTER TABLE scene_vectors ALTER COLUMN user_id SET NOT NULL;
-- A long transcript is embedded whole and in sentence-sized pieces (chunk 1, 2, ...): a phrase
-- matches its piece even when the whole scene is about more.
ALTER TABLE scene_vectors ADD COLUMN chunk smallint NOT NULL DEFAULT 0;
ALTER TABLE scene_vectors DROP CONSTRAINT scene_vectors_pkey, ADD PRIMARY KEY (scene_id, model_id, channel, chunk);
CREATE INDEX scene_vectors_user_idx ON scene_vectors (user_id, model_id, channel);
-- A 512-d vector is just over the TOAST threshold: kept inline, a scan reads it with its row
-- instead of one TOAST lookup per vector (several times faster for the exact search).
ALTER TABLE scene_vectors ALTER COLUMN embedding SET STORAGE PLAIN;
