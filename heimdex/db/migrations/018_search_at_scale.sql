-- Every one of a query's terms, in English stems and Korean bigrams: on a large library, when none of
-- a query's words is rare, the scenes holding all of them are the ones its words pick.
CREATE FUNCTION all_terms(query text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT plainto_tsquery('english', query) && plainto_tsquery('simple', public.hangul_bigrams(query))
$$;

-- The logistic function, as heimdex.search.fusion.sigmoid (fusion runs in SQL): never out of range.
CREATE FUNCTION sigmoid(x float8) RETURNS float8
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN x >= 0 THEN 1 / (1 + exp(-least(x, 700))) ELSE exp(greatest(x, -700)) / (1 + exp(greatest(x, -700))) END
$$;

-- How many scenes each user's library holds, kept by triggers like scene_terms: search reads it
-- (one row) to choose its path and how many scenes the query's words may pick, instead of
-- counting a large library's scenes on every query.
CREATE TABLE library_sizes (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    scenes integer NOT NULL
);

CREATE FUNCTION library_sizes_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO library_sizes (user_id, scenes)
        SELECT user_id, count(*) FROM added_scenes GROUP BY user_id ORDER BY user_id
        ON CONFLICT (user_id) DO UPDATE SET scenes = library_sizes.scenes + excluded.scenes;
    ELSE
        INSERT INTO library_sizes (user_id, scenes)
        SELECT r.user_id, -count(*) FROM removed_scenes r
               JOIN users u ON u.id = r.user_id  -- a user being deleted takes their count along
        GROUP BY r.user_id ORDER BY r.user_id
        ON CONFLICT (user_id) DO UPDATE SET scenes = library_sizes.scenes + excluded.scenes;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER library_sizes_insert AFTER INSERT ON scenes
    REFERENCING NEW TABLE AS added_scenes FOR EACH STATEMENT EXECUTE FUNCTION library_sizes_apply();
CREATE TRIGGER library_sizes_delete AFTER DELETE ON scenes
    REFERENCING OLD TABLE AS removed_scenes FOR EACH STATEMENT EXECUTE FUNCTION library_sizes_apply();

INSERT INTO library_sizes (user_id, scenes) SELECT user_id, count(*) FROM scenes GROUP BY user_id;
