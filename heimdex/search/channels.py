"""Channel retrieval: one SQL query per kind of evidence, always inside one user's scenes.

Vectors are compared exactly (``<=>`` over the user's own rows, reached through
``scene_vectors_user_idx``) while a library is small: there that is fastest, and exact.
A library of ``HEIMDEX_ANN_MIN_SCENES`` scenes or more takes the *index path*:

- vectors through the model's HNSW index (:mod:`heimdex.db.vectors`) with pgvector's
  iterative scan, so the filter on the user still returns enough of their own rows; the
  nearest ``HEIMDEX_ANN_CANDIDATES`` rows per channel get a score, the rest none (they
  would fall under the fusion floor anyway);
- words by how many of the user's scenes hold them (``scene_terms``, kept by triggers):
  the rarest, up to ``HEIMDEX_LEXICAL_MAX_SCENES`` scenes in all, pick scenes by themselves;
  a common one ("person" in half the library) only adds to the rank of scenes picked by
  rarer words or by the vectors. Its scenes are never read: that is what keeps the cost
  bounded (the idea behind IDF);
- appearance tags are scored on those candidates only.

A search with filters (a video, dates, a language, a person) stays exact: the filter
narrows what is read, and the index could not honour it. ``eval/bench_search.py``
measures both paths, their agreement (recall@10) and the switch-over.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Generator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString, cast

import numpy as np
from psycopg import sql
from psycopg.rows import tuple_row

from heimdex.config import Settings
from heimdex.db import Conn, vectors

TEXT_SIGNALS = {"transcript": "transcript_vec", "ocr": "ocr_vec", "tags": "tags_vec"}
NOT_DOING = 0.5  # a named person seen, but not doing what the query says they do


@dataclass(frozen=True)
class SearchFilters:
    video_id: uuid.UUID | None = None
    since: datetime | None = None  # uploaded at or after
    until: datetime | None = None  # uploaded before
    person: str | None = None  # an enrolled person's name
    language: str | None = None  # the spoken language ASR heard
    channels: tuple[str, ...] = ()  # transcript, ocr, visual, person; empty means all

    def where(self) -> tuple[LiteralString, dict[str, Any]]:
        """SQL conditions on scenes ``s`` and videos ``v``, with their parameters."""
        clauses: list[LiteralString] = []
        params: dict[str, Any] = {}
        if self.video_id:
            clauses.append("s.video_id = %(f_video)s")
            params["f_video"] = self.video_id
        if self.since:
            clauses.append("v.created_at >= %(f_since)s")
            params["f_since"] = self.since
        if self.until:
            clauses.append("v.created_at < %(f_until)s")
            params["f_until"] = self.until
        if self.language:
            clauses.append("v.spoken_language = %(f_language)s")
            params["f_language"] = self.language
        if self.person:
            clauses.append(
                """EXISTS (SELECT 1 FROM scene_people sp JOIN people p ON p.id = sp.person_id
                           WHERE sp.scene_id = s.id AND p.user_id = s.user_id AND lower(p.name) = lower(%(f_person)s))"""
            )
            params["f_person"] = self.person
        return " AND ".join(clauses) or "true", params

    @property
    def on_videos(self) -> bool:
        """Whether the conditions read anything beyond the scene vectors themselves."""
        return any((self.video_id, self.since, self.until, self.language, self.person))


def vector_scores(
    conn: Conn,
    user_id: uuid.UUID,
    model: tuple[str, str],
    query: np.ndarray,
    channels: dict[str, str],
    filters: SearchFilters,
    approximate: bool = False,
    within: Collection[int] | None = None,
    *,
    settings: Settings,
) -> dict[str, dict[int, float]]:
    """Cosine similarity of ``query`` to the user's scenes in ``channels`` (vector channel → signal); a scene's best piece counts.

    ``model`` is the (name, version) that made ``query``: only vectors of that model are compared.
    Exact by default, over every scene or those ``within``; ``approximate``: the index path's nearest rows only.
    """
    if approximate:
        with index_scan(conn, settings):
            scores = _nearest_scores(conn, user_id, model, query, channels, settings.ann_candidates)
        empty = {channel: signal for channel, signal in channels.items() if not scores[signal]}
        if empty:  # the index found none of the user's rows (a graph cut off by duplicates): scan those exactly
            scores.update(vector_scores(conn, user_id, model, query, empty, filters, settings=settings))
        return scores
    where, params = filters.where()
    if within is not None:
        where, params = f"{where} AND sv.scene_id = ANY(%(within)s)", {**params, "within": list(within)}
    joins = "JOIN scenes s ON s.id = sv.scene_id JOIN videos v ON v.id = s.video_id" if filters.on_videos else ""
    rows = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            f"""SELECT sv.scene_id, sv.channel, max(1 - (sv.embedding <=> %(query)s)) AS similarity
            FROM scene_vectors sv {joins}
            WHERE sv.user_id = %(user)s AND sv.channel = ANY(%(channels)s) AND {where}
              AND sv.model_id = (SELECT id FROM embedding_models WHERE name = %(model)s AND version = %(version)s)
            GROUP BY sv.scene_id, sv.channel""",
            {
                **params,
                "query": query,
                "user": user_id,
                "model": model[0],
                "version": model[1],
                "channels": list(channels),
            },
        )
        .fetchall()
    )
    scores: dict[str, dict[int, float]] = {signal: {} for signal in channels.values()}
    for scene_id, channel, similarity in rows:
        scores[channels[channel]][scene_id] = similarity
    return scores


def nearest_statement(model_id: int, dim: int, channels: Collection[str]) -> sql.Composed:
    """The index lookup of each channel, in one statement: its nearest rows by the index's distance, each scored by
    the exact one. Model, channel, type and dimension are literals: the planner must see the partial indexes' terms."""
    stored = sql.Identifier(vectors.STORED_AS)
    lookup = sql.SQL(
        """(SELECT scene_id, {channel} AS channel, 1 - (embedding <=> %(query)s) AS similarity FROM scene_vectors
            WHERE model_id = {model} AND channel = {channel} AND user_id = %(user)s
            ORDER BY (embedding::{stored}({dim})) <=> %(query)s::{stored}({dim}) LIMIT %(limit)s)"""
    )
    return sql.SQL(" UNION ALL ").join(
        lookup.format(model=sql.Literal(model_id), channel=sql.Literal(channel), dim=sql.Literal(dim), stored=stored)
        for channel in channels
    )


def large_library(conn: Conn, user_id: uuid.UUID, settings: Settings) -> bool:
    """Whether the user has ``settings.ann_min_scenes`` scenes or more (counting stops there: it stays cheap)."""
    threshold = settings.ann_min_scenes
    row = conn.execute(
        "SELECT count(*) AS n FROM (SELECT 1 FROM scenes WHERE user_id = %s LIMIT %s) AS first_ones",
        (user_id, threshold),
    ).fetchone()
    return row is not None and row["n"] >= threshold


def _nearest_scores(
    conn: Conn, user_id: uuid.UUID, model: tuple[str, str], query: np.ndarray, channels: dict[str, str], limit: int
) -> dict[str, dict[int, float]]:
    """The ``limit`` nearest rows of each channel through the model's HNSW index, filtered to the user as it goes
    (inside :func:`index_scan`)."""
    scores: dict[str, dict[int, float]] = {signal: {} for signal in channels.values()}
    found = conn.execute(
        "SELECT id, dim FROM embedding_models WHERE name = %s AND version = %s", (model[0], model[1])
    ).fetchone()
    if found is None:
        return scores
    rows = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            nearest_statement(int(found["id"]), int(found["dim"]), list(channels)),
            {"query": query, "user": user_id, "limit": limit},
            prepare=False,
        )
        .fetchall()
    )
    for scene_id, channel, similarity in rows:
        signal = scores[channels[channel]]
        signal[scene_id] = max(similarity, signal.get(scene_id, -1.0))
    return scores


@contextmanager
def index_scan(conn: Conn, settings: Settings) -> Generator[None]:
    """Inside the caller's transaction: lookups go through the HNSW index, scanning on past other users' rows
    (iterative scan) up to ``settings.ann_max_scan``. Sorting is off meanwhile, so the planner never picks
    "every row of this user, sorted" (the exact scan, slower here) over the index; it is back on after."""
    conn.execute(sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(settings.ann_ef_search)))
    conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
    conn.execute(sql.SQL("SET LOCAL hnsw.max_scan_tuples = {}").format(sql.Literal(settings.ann_max_scan)))
    conn.execute("SET LOCAL enable_sort = off")
    try:
        yield
    finally:
        conn.execute("SET LOCAL enable_sort = on")


def lexical_statement(filters: SearchFilters, picked_by: str | None = None) -> tuple[LiteralString, dict[str, Any]]:
    """The lexical query (parameters ``text`` and ``user`` still to add) and the filters' parameters.

    ``picked_by``, the index path: only the scenes in ``%(within)s`` or holding one of the terms ``%(rare)s``
    are ranked (``"rare"``; ``"within"`` when no term is rare enough)."""
    where, params = filters.where()
    joins: LiteralString = "JOIN videos v ON v.id = s.video_id" if filters.on_videos else ""
    picked: dict[str | None, LiteralString] = {  # picked scenes are ranked as they are (one holding no term ranks
        # 0): matching the whole query would read the common terms' scenes, all of them
        None: "AND (s.transcript_tsv @@ q OR s.ocr_tsv @@ q OR s.tags_tsv @@ q)",
        "within": "AND s.id = ANY(%(within)s)",
        "rare": """AND (s.id = ANY(%(within)s) OR s.transcript_tsv @@ any_of(%(rare)s::text[])
                         OR s.ocr_tsv @@ any_of(%(rare)s::text[]) OR s.tags_tsv @@ any_of(%(rare)s::text[]))""",
    }
    return (  # the query in FROM, not a CTE: planning stays well under a millisecond
        f"""SELECT s.id,  -- a rank only where the document matches: ranking costs far more than matching
               CASE WHEN s.transcript_tsv @@ q THEN ts_rank_cd(s.transcript_tsv, q, 32) ELSE 0 END AS transcript_text,
               CASE WHEN s.ocr_tsv @@ q THEN ts_rank_cd(s.ocr_tsv, q, 32) ELSE 0 END AS ocr_text,
               CASE WHEN s.tags_tsv @@ q THEN ts_rank_cd(s.tags_tsv, q, 32) ELSE 0 END AS tags_text
        FROM search_query(%(text)s) AS q, scenes s {joins}
        WHERE numnode(q) > 0 AND s.user_id = %(user)s {picked[picked_by]} AND {where}""",
        params,
    )


def lexical_scores(
    conn: Conn,
    user_id: uuid.UUID,
    text: str,
    filters: SearchFilters,
    within: Collection[int] | None = None,
    *,
    settings: Settings,
) -> dict[str, dict[int, float]]:
    """Full-text rank (cover density, 0..1) of the user's scenes per text channel: stems in English, bigrams in Korean.

    ``within``, the index path: the scenes found by the vectors; they are ranked, and so are the scenes holding
    the query's rarest terms (``rare_terms``). Without it every scene holding any term is."""
    extra: dict[str, Any] = {}
    picked_by = None
    if within is not None:
        rare = rare_terms(conn, user_id, text, settings)
        picked_by = "rare" if rare else "within"
        extra = {"within": list(within), "rare": rare}
    statement, params = lexical_statement(filters, picked_by)
    rows = (
        conn.cursor(row_factory=tuple_row)
        .execute(statement, {**params, **extra, "text": text, "user": user_id}, prepare=False)
        .fetchall()
    )
    signals = ("transcript_text", "ocr_text", "tags_text")
    scores: dict[str, dict[int, float]] = {signal: {} for signal in signals}
    for scene_id, *ranks in rows:
        for signal, rank in zip(signals, ranks):
            if rank > 0:
                scores[signal][scene_id] = rank
    return scores


def rare_terms(conn: Conn, user_id: uuid.UUID, text: str, settings: Settings) -> list[str]:
    """The query's terms that pick scenes on the index path: the rarest in the user's library, as long as
    together they are in at most ``settings.lexical_max_scenes`` scenes."""
    rows = conn.execute(
        """SELECT term, scenes FROM scene_terms
           WHERE user_id = %s AND term = ANY(tsvector_to_array(search_document(%s))) ORDER BY scenes, term""",
        (user_id, text),
    ).fetchall()
    budget, rare = settings.lexical_max_scenes, list[str]()
    for row in rows:
        budget -= row["scenes"]
        if budget < 0:
            break
        if "\\" not in row["term"]:  # quote_literal would write E'...', which a tsquery does not read
            rare.append(row["term"])
    return rare


def appearance_scores(
    conn: Conn,
    user_id: uuid.UUID,
    units: tuple[tuple[tuple[str, float], ...], ...],
    filters: SearchFilters,
    within: Collection[int] | None = None,
) -> dict[int, float]:
    """How much of a query's appearance the user's scenes' tags show: the mean, over the query's units
    ('man', 'red shirt'), of the weight of the best alternative phrase found in the tags (0..1).
    ``within``, the index path: only those scenes are scored."""
    if not units:
        return {}
    where, params = filters.where()
    if within is not None:
        where, params = f"{where} AND s.id = ANY(%(within)s)", {**params, "within": list(within)}
    joins = "JOIN videos v ON v.id = s.video_id" if filters.on_videos else ""
    phrases: dict[str, str] = {}
    cases: list[str] = []
    for i, unit in enumerate(units):
        whens: list[str] = []
        for j, (phrase, weight) in enumerate(sorted(unit, key=lambda option: -option[1])):  # the best that matches
            phrases[f"a{i}_{j}"] = phrase
            whens.append(f"WHEN s.tags_tsv @@ phraseto_tsquery('english', %(a{i}_{j})s) THEN {float(weight)}")
        cases.append(f"CASE {' '.join(whens)} ELSE 0 END")
    anything = " || ".join(f"phraseto_tsquery('english', %({key})s)" for key in phrases)
    query = cast(  # placeholders and weights made here; the phrases themselves are parameters
        LiteralString,
        f"""SELECT s.id, ({" + ".join(cases)}) / {len(units)}.0 AS share
            FROM scenes s {joins}
            WHERE s.user_id = %(user)s AND s.tags_tsv @@ ({anything}) AND {where}""",
    )
    rows = conn.cursor(row_factory=tuple_row).execute(query, {**params, **phrases, "user": user_id}).fetchall()
    return {scene_id: float(share) for scene_id, share in rows if share > 0}


def person_scores(
    conn: Conn, user_id: uuid.UUID, names: tuple[str, ...], filters: SearchFilters, actions: tuple[str, ...] = ()
) -> dict[int, float]:
    """How surely each of the user's scenes shows one of the named people (1 - face distance); with ``actions``
    ("Minji waving"), a scene where the person is not the one doing them counts ``NOT_DOING`` as much."""
    where, params = filters.where()
    rows = conn.execute(
        f"""SELECT sp.scene_id, max((1 - sp.distance) * CASE WHEN sp.actions @> %(actions)s::text[] THEN 1 ELSE %(not_doing)s END)
                   AS likeness
            FROM scene_people sp JOIN people p ON p.id = sp.person_id
                 JOIN scenes s ON s.id = sp.scene_id JOIN videos v ON v.id = s.video_id
            WHERE p.user_id = %(user)s AND s.user_id = %(user)s AND lower(p.name) = ANY(%(names)s) AND {where}
            GROUP BY sp.scene_id""",
        {
            **params,
            "user": user_id,
            "names": [name.lower() for name in names],
            "actions": list(actions),
            "not_doing": NOT_DOING,
        },
    ).fetchall()
    return {row["scene_id"]: float(row["likeness"]) for row in rows}


def phrase_scenes(
    conn: Conn,
    user_id: uuid.UUID,
    phrases: tuple[str, ...],
    filters: SearchFilters,
    among: Collection[int] | None = None,
) -> set[int]:
    """The user's scenes (of ``among`` when given) whose speech, screen text or tags contain every phrase exactly
    (ignoring case)."""
    where, params = filters.where()
    if among is not None:
        where, params = f"{where} AND s.id = ANY(%(among)s)", {**params, "among": list(among)}
    patterns = {f"p{i}": "%" + _escape_like(phrase) + "%" for i, phrase in enumerate(phrases)}
    contains = cast(  # placeholders named by us (p0, p1, ...); the phrases themselves are parameters
        LiteralString,
        " AND ".join(
            f"(s.transcript ILIKE %({key})s OR s.ocr_text ILIKE %({key})s OR s.tag_text ILIKE %({key})s)"
            for key in patterns
        ),
    )
    rows = conn.execute(
        f"""SELECT s.id FROM scenes s JOIN videos v ON v.id = s.video_id
            WHERE s.user_id = %(user)s AND {contains} AND {where}""",
        {**params, **patterns, "user": user_id},
    ).fetchall()
    return {row["id"] for row in rows}


def person_names(conn: Conn, user_id: uuid.UUID) -> list[str]:
    """The names of the user's people (suggested, unnamed people have none)."""
    rows = conn.execute("SELECT name FROM people WHERE user_id = %s AND name IS NOT NULL", (user_id,)).fetchall()
    return [row["name"] for row in rows]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def scenes_showing(conn: Conn, user_id: uuid.UUID, things: tuple[str, ...], among: Collection[int]) -> set[int]:
    """The scenes of ``among`` whose tags name at least one of ``things`` (any form: 'bottles' for 'bottle')."""
    rows = conn.execute(
        """SELECT s.id FROM scenes s
           WHERE s.user_id = %s AND s.id = ANY(%s)
             AND EXISTS (SELECT 1 FROM unnest(%s::text[]) AS thing WHERE s.tags_tsv @@ phraseto_tsquery('english', thing))""",
        (user_id, list(among), list(things)),
    ).fetchall()
    return {row["id"] for row in rows}


def known_words(conn: Conn, user_id: uuid.UUID, words: Collection[str]) -> set[str]:
    """The ``words`` whose search terms (stems, Hangul bigrams) are all somewhere in the user's library."""
    rows = conn.execute(
        """SELECT w FROM unnest(%s::text[]) AS w
           WHERE numnode(search_query(w)) > 0 AND NOT EXISTS (
               SELECT 1 FROM unnest(tsvector_to_array(search_document(w))) AS q(term)
               WHERE NOT EXISTS (SELECT 1 FROM scene_terms t WHERE t.user_id = %s AND t.term = q.term))""",
        (list(words), user_id),
    ).fetchall()
    return {row["w"] for row in rows}


def best_pieces(
    conn: Conn, user_id: uuid.UUID, model: tuple[str, str], query: np.ndarray, channel: str, scene_ids: Collection[int]
) -> dict[int, int]:
    """For each of ``scene_ids``, the piece of ``channel`` nearest to ``query`` (k: the k-th line or piece of speech;
    0, the whole text, only where it has no pieces): where in a scene a match in meaning came from."""
    rows = conn.execute(
        """SELECT DISTINCT ON (sv.scene_id) sv.scene_id, sv.chunk FROM scene_vectors sv
           WHERE sv.user_id = %(user)s AND sv.channel = %(channel)s AND sv.scene_id = ANY(%(scenes)s)
             AND sv.model_id = (SELECT id FROM embedding_models WHERE name = %(model)s AND version = %(version)s)
           ORDER BY sv.scene_id, sv.chunk = 0, sv.embedding <=> %(query)s, sv.chunk""",
        {
            "user": user_id,
            "channel": channel,
            "scenes": list(scene_ids),
            "model": model[0],
            "version": model[1],
            "query": query,
        },
    ).fetchall()
    return {row["scene_id"]: row["chunk"] for row in rows}
