"""Indexing stages: a stored video becomes scenes, text, tags and vectors (one module per stage)."""
