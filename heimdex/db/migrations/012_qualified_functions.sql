-- The search functions name the functions they call with their schema: pg_restore creates tables
-- with an empty search_path, and a stored column computed by search_document() must find
-- hangul_bigrams() then too (heimdex.backup). Same bodies otherwise, so nothing stored changes.
CREATE OR REPLACE FUNCTION search_document(doc text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT to_tsvector('english', doc) || to_tsvector('simple', public.hangul_bigrams(doc))
$$;

CREATE OR REPLACE FUNCTION search_query(query text) RETURNS tsquery
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT public.any_term(plainto_tsquery('english', query))
        || public.any_term(plainto_tsquery('simple', public.hangul_bigrams(query)))
$$;
