-- Two costs every search on a large library paid (eval/bench_search.py, one user's 300k scenes).

-- The words' indexes take a scene's terms when it is written, not later: with GIN's "fast update" a
-- new video's scenes wait in a pending list (up to 4 MB per index) that every search reads through
-- until a vacuum merges it: 20-35 ms a search. Adding one video's scenes straight into the trees
-- costs that video's indexing milliseconds, once.
ALTER INDEX scenes_transcript_tsv_idx SET (fastupdate = off);
ALTER INDEX scenes_ocr_tsv_idx SET (fastupdate = off);
ALTER INDEX scenes_tags_tsv_idx SET (fastupdate = off);
SELECT gin_clean_pending_list('scenes_transcript_tsv_idx'::regclass);
SELECT gin_clean_pending_list('scenes_ocr_tsv_idx'::regclass);
SELECT gin_clean_pending_list('scenes_tags_tsv_idx'::regclass);

-- The logistic function, the same values, written so that the planner inlines it: a STRICT SQL
-- function whose body it cannot prove strict is called as a function, about 3 µs a call against
-- 0.3 µs inlined, and fusion calls it for every scored row (thousands when a word is common).
-- NULL gives NULL as before (neither branch holds).
CREATE OR REPLACE FUNCTION sigmoid(x float8) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN x >= 0 THEN 1 / (1 + exp(-least(x, 700)))
                WHEN x < 0 THEN exp(greatest(x, -700)) / (1 + exp(greatest(x, -700))) END
$$;
