"""The approximate index over scene vectors: one HNSW index (cosine) per embedding model.

Vectors of every model share one column of any dimension, so each model gets a partial
index on its rows, over the column cast to its dimension. The index keeps half-precision
copies (``halfvec``): half the memory and disk of full floats, at no measurable cost in
recall (``eval/bench_search.py``). Search reads it only for large libraries
(:mod:`heimdex.search.channels`); small ones are scanned exactly.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

STORED_AS = "halfvec"  # what the index keeps of each vector: halfvec (16-bit floats) or vector (32-bit)
OPS = {"halfvec": "halfvec_cosine_ops", "vector": "vector_cosine_ops"}
HNSW_M = 16  # pgvector's defaults: links per node ...
HNSW_EF_CONSTRUCTION = 64  # ... and the candidate list while building


def index_name(model_id: int) -> str:
    return f"scene_vectors_hnsw_{int(model_id)}"


def ensure_vector_index(conn: psycopg.Connection[Any], model_id: int, dim: int) -> None:
    """Create the model's HNSW index if it is missing (instant for a new model; a build over existing rows)."""
    conn.execute(
        sql.SQL(
            "CREATE INDEX IF NOT EXISTS {name} ON scene_vectors USING hnsw ((embedding::{stored}({dim})) "
            "{ops}) WITH (m = {m}, ef_construction = {ef}) WHERE model_id = {model}"
        ).format(
            name=sql.Identifier(index_name(model_id)),
            stored=sql.Identifier(STORED_AS),
            ops=sql.Identifier(OPS[STORED_AS]),
            dim=sql.Literal(int(dim)),
            m=sql.Literal(HNSW_M),
            ef=sql.Literal(HNSW_EF_CONSTRUCTION),
            model=sql.Literal(int(model_id)),
        )
    )


def ensure_vector_indexes(conn: psycopg.Connection[Any]) -> None:
    """Every known model's index (a database from before these indexes gets them built once)."""
    with conn.transaction():
        for row in conn.cursor(row_factory=dict_row).execute("SELECT id, dim FROM embedding_models").fetchall():
            ensure_vector_index(conn, row["id"], row["dim"])
