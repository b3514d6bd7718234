"""The approximate index over scene vectors: one HNSW index (cosine) per embedding model and channel.

Vectors of every model share one column of any dimension, so each model gets partial
indexes on its rows, over the column cast to its dimension, one per channel (a lookup in
the screen-text channel then never walks past speech and tag vectors). The index keeps half-precision
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


CHANNELS = ("transcript", "ocr", "tags", "visual")  # one index each: a channel's lookup walks its own rows only


def index_name(model_id: int, channel: str) -> str:
    return f"scene_vectors_hnsw_{int(model_id)}_{channel}"


def index_names(model_id: int) -> list[str]:
    return [index_name(model_id, channel) for channel in CHANNELS]


def ensure_vector_index(conn: psycopg.Connection[Any], model_id: int, dim: int) -> None:
    """Create the model's HNSW indexes (one per channel) if missing: instant for a new model, a build over
    existing rows otherwise."""
    for channel in CHANNELS:
        conn.execute(
            sql.SQL(
                "CREATE INDEX IF NOT EXISTS {name} ON scene_vectors USING hnsw ((embedding::{stored}({dim})) "
                "{ops}) WITH (m = {m}, ef_construction = {ef}) WHERE model_id = {model} AND channel = {channel}"
            ).format(
                name=sql.Identifier(index_name(model_id, channel)),
                stored=sql.Identifier(STORED_AS),
                ops=sql.Identifier(OPS[STORED_AS]),
                dim=sql.Literal(int(dim)),
                m=sql.Literal(HNSW_M),
                ef=sql.Literal(HNSW_EF_CONSTRUCTION),
                model=sql.Literal(int(model_id)),
                channel=sql.Literal(channel),
            )
        )


def ensure_vector_indexes(conn: psycopg.Connection[Any]) -> None:
    """Every known model's indexes (a database from before these indexes gets them built once); processes
    starting together take turns on the migrations' advisory lock."""
    from heimdex.db.migrate import LOCK_KEY

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        for row in conn.cursor(row_factory=dict_row).execute("SELECT id, dim FROM embedding_models").fetchall():
            ensure_vector_index(conn, row["id"], row["dim"])
