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
HNSW_M = 16  # links per node (pgvector's default) ...
HNSW_EF_CONSTRUCTION = 128  # ... and the candidate list while building: twice pgvector's default, whose graphs
# gave recall@10 0.95 to 0.98 at ef_search 200 from one build to the next (eval/bench_search.py --graph-at;
# 0.996 at 128, for 1.7 times the build)


CHANNELS = ("transcript", "ocr", "tags", "visual")  # one index each: a channel's lookup walks its own rows only


def index_name(model_id: int, channel: str) -> str:
    return f"scene_vectors_hnsw_{int(model_id)}_{channel}"


def index_names(model_id: int) -> list[str]:
    return [index_name(model_id, channel) for channel in CHANNELS]


def ensure_vector_index(conn: psycopg.Connection[Any], model_id: int, dim: int) -> None:
    """Create the model's HNSW indexes (one per channel) if missing: instant for a new model, a build over
    existing rows otherwise."""
    for channel in CHANNELS:
        conn.execute(_create(model_id, dim, channel))


def _create(model_id: int, dim: int, channel: str, concurrently: bool = False) -> sql.Composed:
    return sql.SQL(
        "CREATE INDEX {how} IF NOT EXISTS {name} ON scene_vectors USING hnsw ((embedding::{stored}({dim})) "
        "{ops}) WITH (m = {m}, ef_construction = {ef}) WHERE model_id = {model} AND channel = {channel}"
    ).format(
        how=sql.SQL("CONCURRENTLY" if concurrently else ""),
        name=sql.Identifier(index_name(model_id, channel)),
        stored=sql.Identifier(STORED_AS),
        ops=sql.Identifier(OPS[STORED_AS]),
        dim=sql.Literal(int(dim)),
        m=sql.Literal(HNSW_M),
        ef=sql.Literal(HNSW_EF_CONSTRUCTION),
        model=sql.Literal(int(model_id)),
        channel=sql.Literal(channel),
    )


def _graphs(conn: psycopg.Connection[Any]) -> dict[str, tuple[bool, bool]]:
    """The HNSW indexes over scene vectors: name → (valid, valid and built with today's settings)."""
    wanted = {f"m={HNSW_M}", f"ef_construction={HNSW_EF_CONSTRUCTION}"}
    rows = conn.cursor(row_factory=dict_row).execute(
        """SELECT c.relname AS name, coalesce(c.reloptions, '{}') AS options, i.indisvalid AS valid FROM pg_class c
           JOIN pg_index i ON i.indexrelid = c.oid JOIN pg_am a ON a.oid = c.relam
           WHERE a.amname = 'hnsw' AND i.indrelid = 'scene_vectors'::regclass ORDER BY c.relname"""
    )
    return {row["name"]: (row["valid"], row["valid"] and wanted <= set(row["options"])) for row in rows}


def stale_indexes(conn: psycopg.Connection[Any]) -> list[str]:
    """The HNSW indexes over scene vectors built with other settings than today's (an older release's), or left
    invalid by a build cut short: they answer with the recall of their build (or not at all) until
    ``python -m heimdex db rebuild-graph``."""
    return [name for name, (_, current) in _graphs(conn).items() if not current]


def rebuild_stale_indexes(conn: psycopg.Connection[Any]) -> list[str]:
    """Build each stale index again with today's settings beside the old one (``CONCURRENTLY``: search and
    indexing go on meanwhile, through the old one), then drop the old. ``conn`` must be in autocommit; a rebuild
    cut short is finished by the next (its unfinished index dropped, the old one answering until then).
    Returns the names rebuilt."""
    dims = {
        row["id"]: row["dim"]
        for row in conn.cursor(row_factory=dict_row).execute("SELECT id, dim FROM embedding_models")
    }
    graphs = _graphs(conn)
    rebuilt = []
    for name, (valid, current) in graphs.items():
        old = sql.Identifier(f"{name.removesuffix('_old')}_old")
        model, _, channel = name.removeprefix("scene_vectors_hnsw_").partition("_")
        if current or name.endswith("_old") or not model.isdigit() or int(model) not in dims or channel not in CHANNELS:
            continue  # an old copy (dropped with its index, below) or not one of ours
        if not valid:
            conn.execute(sql.SQL("DROP INDEX CONCURRENTLY {}").format(sql.Identifier(name)))  # a build cut short
        else:
            conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(old))
            conn.execute(sql.SQL("ALTER INDEX {} RENAME TO {}").format(sql.Identifier(name), old))
        conn.execute(_create(int(model), dims[int(model)], channel, concurrently=True))
        conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(old))
        rebuilt.append(name)
    after = _graphs(conn)
    for name in after:  # an old copy left by a rebuild cut short after its build
        if name.endswith("_old") and after.get(name.removesuffix("_old"), (False, False))[1]:
            conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(name)))
    return rebuilt


def ensure_vector_indexes(conn: psycopg.Connection[Any]) -> None:
    """Every known model's indexes (a database from before these indexes gets them built once); processes
    starting together take turns on the migrations' advisory lock."""
    from heimdex.db.migrate import LOCK_KEY

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        for row in conn.cursor(row_factory=dict_row).execute("SELECT id, dim FROM embedding_models").fetchall():
            ensure_vector_index(conn, row["id"], row["dim"])
