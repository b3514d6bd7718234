-- How many bytes each public clip keeps, so that a user's public clips together stay under a bound
-- (heimdex.public.MAX_BYTES_PER_USER). Clips made before this counted as 0.
ALTER TABLE public_clips ADD COLUMN bytes bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0);
