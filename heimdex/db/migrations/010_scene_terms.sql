-- How many of a user's scenes hold each search term (English stem or Hangul bigram), in any
-- text channel. Search on a large library reads it to tell a rare word (it picks scenes) from a
-- common one (in thousands of scenes, it only adds to the rank of scenes picked otherwise),
-- without touching the common word's scenes. Kept by the triggers below, one statement at a time.

-- The distinct terms of one scene's three documents.
CREATE FUNCTION scene_terms_of(transcript tsvector, ocr tsvector, tags tsvector) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT tsvector_to_array(transcript || ocr || tags)
$$;

-- Any of the given terms (lexemes, as scene_terms holds them). Immutable: given a constant, the planner
-- computes it while planning and can estimate how many scenes it matches.
CREATE FUNCTION any_of(terms text[]) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT string_agg(quote_literal(t), ' | ')::tsquery FROM unnest(terms) AS t
$$;

CREATE TABLE scene_terms (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    term text NOT NULL,
    scenes integer NOT NULL,
    PRIMARY KEY (user_id, term)
);

-- Added scenes count their terms up, removed ones down, and a term no scene holds any more goes.
-- Rows change in (user, term) order, so two statements on one user's scenes wait, never deadlock.
CREATE FUNCTION scene_terms_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO scene_terms (user_id, term, scenes)
        SELECT user_id, term, count(*) FROM added_scenes, unnest(scene_terms_of(transcript_tsv, ocr_tsv, tags_tsv)) AS term
        GROUP BY user_id, term ORDER BY user_id, term
        ON CONFLICT (user_id, term) DO UPDATE SET scenes = scene_terms.scenes + excluded.scenes;
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        INSERT INTO scene_terms (user_id, term, scenes)
        SELECT r.user_id, term, -count(*) FROM removed_scenes r
               JOIN users u ON u.id = r.user_id,  -- a user being deleted takes their counts along
               unnest(scene_terms_of(r.transcript_tsv, r.ocr_tsv, r.tags_tsv)) AS term
        GROUP BY r.user_id, term ORDER BY r.user_id, term
        ON CONFLICT (user_id, term) DO UPDATE SET scenes = scene_terms.scenes + excluded.scenes;
    ELSE  -- UPDATE: the new documents' terms count up, the old ones' down
        INSERT INTO scene_terms (user_id, term, scenes)
        SELECT user_id, term, sum(n) FROM (
            SELECT user_id, term, 1 AS n FROM added_scenes, unnest(scene_terms_of(transcript_tsv, ocr_tsv, tags_tsv)) AS term
            UNION ALL
            SELECT user_id, term, -1 FROM removed_scenes, unnest(scene_terms_of(transcript_tsv, ocr_tsv, tags_tsv)) AS term
        ) AS both_sides
        GROUP BY user_id, term HAVING sum(n) <> 0 ORDER BY user_id, term
        ON CONFLICT (user_id, term) DO UPDATE SET scenes = scene_terms.scenes + excluded.scenes;
    END IF;
    DELETE FROM scene_terms WHERE user_id IN (SELECT DISTINCT user_id FROM removed_scenes) AND scenes <= 0;
    RETURN NULL;
END
$$;

CREATE TRIGGER scene_terms_insert AFTER INSERT ON scenes
    REFERENCING NEW TABLE AS added_scenes FOR EACH STATEMENT EXECUTE FUNCTION scene_terms_apply();
CREATE TRIGGER scene_terms_delete AFTER DELETE ON scenes
    REFERENCING OLD TABLE AS removed_scenes FOR EACH STATEMENT EXECUTE FUNCTION scene_terms_apply();
CREATE TRIGGER scene_terms_update AFTER UPDATE ON scenes
    REFERENCING OLD TABLE AS removed_scenes NEW TABLE AS added_scenes
    FOR EACH STATEMENT EXECUTE FUNCTION scene_terms_apply();

INSERT INTO scene_terms (user_id, term, scenes)
SELECT user_id, term, count(*) FROM scenes, unnest(scene_terms_of(transcript_tsv, ocr_tsv, tags_tsv)) AS term GROUP BY user_id, term;
