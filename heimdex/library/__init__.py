"""A user's library: videos and their media, ingest, clips and public links, transcripts, people, quotas,
and blobs whose rows are gone."""
