"""Channel retrieval: one part of one SQL statement per kind of evidence, always inside one user's scenes.

Each part gives ``(scene_id, signal, raw)`` rows; :mod:`heimdex.search` writes them into one
statement with the fusion, so raw scores never leave the database. Each also runs alone
(``vector_scores``, ``lexical_scores``, ...), for tuning and tests.

Vectors are compared exactly (``<=>`` over the user's own rows, reached through
``scene_vectors_user_idx``) while a library is small: there that is fastest, and exact.
A library of ``HEIMDEX_ANN_MIN_SCENES`` scenes or more (``library_sizes``, kept by triggers)
takes the *index path*: only candidates are scored, on every channel, and they are

- each channel's ``HEIMDEX_ANN_CANDIDATES`` nearest rows through the model's HNSW index
  (:mod:`heimdex.db.vectors`), with pgvector's iterative scan, so the filter on the user
  still returns enough of their own rows;
- the scenes the query's words pick (``picked_part``): the rarest words' scenes, up to a
  budget that grows with the library (``lexical_budget``); when no word is that rare, the
  scenes holding all of them. A common word's scenes are never all read: that is what
  keeps the cost bounded (the idea behind IDF);
- the named people's scenes.

A search with filters (a video, dates, a language, a person) stays exact: the filter
narrows what is read, and the index could not honour it. ``eval/bench_search.py``
measures both paths, their agreement (recall@10) and the budget's choice.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Generator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

import numpy as np
from psycopg import sql

from heimdex.config import Settings
from heimdex.db import Conn, vectors
from heimdex.db.statement import Statement

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


USER = sql.Placeholder("user")  # the user's id, in every statement of a search
QUERY, LIMIT = sql.Placeholder("query"), sql.Placeholder("limit")  # nearest_statement's, run alone


def scores_of(conn: Conn, st: Statement, body: sql.Composable) -> dict[str, dict[int, float]]:
    """Signal → scene id → raw score of a part's ``(scene_id, signal, raw)`` rows (a scene's best per signal)."""
    scores: dict[str, dict[int, float]] = {}
    for scene_id, signal, raw in st.rows(conn, body):
        found = scores.setdefault(signal, {})
        found[scene_id] = max(float(raw), found.get(scene_id, float("-inf")))
    return scores


def signal_case(column: LiteralString, signals: dict[str, str]) -> sql.Composed:
    """``CASE column WHEN 'transcript' THEN 'transcript_vec' ... END``: a channel's rows named by their signal."""
    whens = sql.SQL(" ").join(
        sql.SQL("WHEN {} THEN {}").format(sql.Literal(channel), sql.Literal(signal))
        for channel, signal in signals.items()
    )
    return sql.SQL("CASE {} {} END").format(sql.SQL(column), whens)


def vector_part(
    st: Statement,
    model: tuple[str, str],
    query: np.ndarray,
    channels: dict[str, str],
    filters: SearchFilters,
    within: sql.Composable | None = None,
) -> sql.Composed:
    """Cosine similarity of ``query`` to the user's scenes in ``channels`` (vector channel → signal), a scene's best
    piece counting; exact, over every scene or the ids of the array ``within``. ``model``: the (name, version) that
    made ``query``; only its vectors are compared."""
    joins = "JOIN scenes s ON s.id = sv.scene_id JOIN videos v ON v.id = s.video_id" if filters.on_videos else ""
    among = sql.SQL("AND sv.scene_id = ANY({})").format(within) if within is not None else sql.SQL("")
    return sql.SQL(
        """SELECT sv.scene_id, {signal} AS signal, max(1 - (sv.embedding <=> {query})) AS raw
           FROM scene_vectors sv {joins}
           WHERE sv.user_id = {user} AND sv.channel = ANY({channels}) AND {where} {among}
             AND sv.model_id = (SELECT id FROM embedding_models WHERE name = {name} AND version = {version})
           GROUP BY sv.scene_id, sv.channel"""
    ).format(
        signal=signal_case("sv.channel", channels),
        query=st.value(query),
        joins=sql.SQL(joins),
        user=USER,
        channels=st.value(list(channels)),
        where=st.conditions(*filters.where()),
        among=among,
        name=st.value(model[0]),
        version=st.value(model[1]),
    )


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
    """:func:`vector_part` run alone: signal → scene id → similarity. ``approximate``: the index path's nearest rows
    only, a channel the index found none of the user's rows in scanned exactly (a graph cut off by duplicates)."""
    st = Statement(user=user_id)
    if approximate:
        found = model_row(conn, model)
        if found is None:
            return {signal: {} for signal in channels.values()}
        with index_scan(conn, settings):
            scores = scores_of(conn, st, nearest_part(st, found, query, channels, settings.ann_candidates))
        scores = {signal: scores.get(signal, {}) for signal in channels.values()}
        empty = {channel: signal for channel, signal in channels.items() if not scores[signal]}
        if empty:
            scores.update(vector_scores(conn, user_id, model, query, empty, filters, settings=settings))
        return scores
    among = st.value(list(within)) if within is not None else None
    scores = scores_of(conn, st, vector_part(st, model, query, channels, filters, among))
    return {signal: scores.get(signal, {}) for signal in channels.values()}


def model_row(conn: Conn, model: tuple[str, str]) -> tuple[int, int] | None:
    """The (id, dimension) of an embedding model, None if nothing was ever embedded with it."""
    found = conn.execute(
        "SELECT id, dim FROM embedding_models WHERE name = %s AND version = %s", (model[0], model[1])
    ).fetchone()
    return (int(found["id"]), int(found["dim"])) if found else None


def nearest_statement(
    model_id: int,
    dim: int,
    channels: Collection[str],
    query: sql.Composable = QUERY,
    limit: sql.Composable = LIMIT,
    signals: dict[str, str] | None = None,
) -> sql.Composed:
    """The index lookup of each channel, in one statement: its nearest rows by the index's distance, each scored by
    the exact one. Model, channel, type and dimension are literals: the planner must see the partial indexes' terms."""
    stored = sql.Identifier(vectors.STORED_AS)
    lookup = sql.SQL(
        """(SELECT scene_id, {signal} AS signal, 1 - (embedding <=> {query}) AS raw FROM scene_vectors
            WHERE model_id = {model} AND channel = {channel} AND user_id = {user}
            ORDER BY (embedding::{stored}({dim})) <=> {query}::{stored}({dim}) LIMIT {limit})"""
    )
    return sql.SQL(" UNION ALL ").join(
        lookup.format(
            signal=sql.Literal((signals or {}).get(channel, channel)),
            model=sql.Literal(model_id),
            channel=sql.Literal(channel),
            dim=sql.Literal(dim),
            stored=stored,
            query=query,
            user=USER,
            limit=limit,
        )
        for channel in channels
    )


def nearest_part(
    st: Statement, model: tuple[int, int], query: np.ndarray, channels: dict[str, str], limit: int
) -> sql.Composed:
    """The ``limit`` nearest rows of each channel through the model's HNSW index, filtered to the user as it goes
    (inside :func:`index_scan`)."""
    return nearest_statement(model[0], model[1], list(channels), st.value(query), st.value(limit), channels)


def library_size(conn: Conn, user_id: uuid.UUID) -> int:
    """How many scenes the user's library holds (kept by triggers: one row read)."""
    row = conn.execute("SELECT scenes FROM library_sizes WHERE user_id = %s", (user_id,)).fetchone()
    return int(row["scenes"]) if row else 0


def large_library(conn: Conn, user_id: uuid.UUID, settings: Settings) -> bool:
    """Whether the user has ``settings.ann_min_scenes`` scenes or more: searched through the index."""
    return library_size(conn, user_id) >= settings.ann_min_scenes


def lexical_budget(scenes: int, settings: Settings) -> int:
    """How many scenes the query's words may pick by themselves on the index path: a share of the library, and
    never fewer than ``settings.lexical_max_scenes`` (``eval/bench_search.py`` chose both)."""
    return max(settings.lexical_max_scenes, int(settings.lexical_share * scenes))


@contextmanager
def index_scan(conn: Conn, settings: Settings) -> Generator[None]:
    """Inside the caller's transaction: lookups go through the HNSW index, scanning on past other users' rows
    (iterative scan) up to ``settings.ann_max_scan``. Sorting and sequential scans are off meanwhile: the planner
    never picks "every row of this user, sorted" (the exact scan, slower here) over the index, nor reads the
    scenes table in order until it holds enough of a common word's scenes (``picked_part``'s ``LIMIT``: 45 ms
    where the user's rows lie behind others', against 2 ms through the words' indexes). Both are back on after."""
    conn.execute(  # one round trip; set_config(..., true) is SET LOCAL
        """SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', 'relaxed_order', true),
                  set_config('hnsw.max_scan_tuples', %s, true), set_config('enable_sort', 'off', true),
                  set_config('enable_seqscan', 'off', true)""",
        (str(settings.ann_ef_search), str(settings.ann_max_scan)),
    )
    yield  # (after an error the transaction ends, and its settings with it)
    conn.execute("SELECT set_config('enable_sort', 'on', true), set_config('enable_seqscan', 'on', true)")


LEXICAL_SIGNALS = {"transcript_text": "transcript_tsv", "ocr_text": "ocr_tsv", "tags_text": "tags_tsv"}


def lexical_part(
    st: Statement,
    text: str,
    filters: SearchFilters,
    signals: Collection[str] = tuple(LEXICAL_SIGNALS),
    within: sql.Composable | None = None,
) -> sql.Composed:
    """Full-text rank (cover density, 0..1) per text channel of the user's scenes holding any of the query's terms:
    stems in English, bigrams in Korean. ``within``: only the scenes of that array are ranked (the index path)."""
    joins = "JOIN videos v ON v.id = s.video_id" if filters.on_videos else ""
    ranks = sql.SQL(", ").join(  # a rank only where the document matches: ranking costs far more than matching
        sql.SQL("({}, CASE WHEN s.{column} @@ q THEN ts_rank_cd(s.{column}, q, 32) ELSE 0 END)").format(
            sql.Literal(signal), column=sql.Identifier(LEXICAL_SIGNALS[signal])
        )
        for signal in LEXICAL_SIGNALS
        if signal in signals
    )
    picked = (
        sql.SQL("s.id = ANY({})").format(within)
        if within is not None
        else sql.SQL("(s.transcript_tsv @@ q OR s.ocr_tsv @@ q OR s.tags_tsv @@ q)")
    )
    return sql.SQL(  # the query in FROM, not a part of its own: planning stays well under a millisecond
        """SELECT s.id AS scene_id, r.signal, r.raw
           FROM search_query({text}) AS q, scenes s {joins}, LATERAL (VALUES {ranks}) AS r (signal, raw)
           WHERE numnode(q) > 0 AND s.user_id = {user} AND {picked} AND {where} AND r.raw > 0"""
    ).format(
        text=st.value(text),
        joins=sql.SQL(joins),
        ranks=ranks,
        user=USER,
        picked=picked,
        where=st.conditions(*filters.where()),
    )


def picked_part(st: Statement, conn: Conn, text: str, budget: int) -> sql.Composed:
    """The scenes the query's words pick by themselves on the index path.

    The rarest terms pick their scenes, as long as together they are in at most ``budget`` scenes (``rare_terms``);
    a common term's scenes are never all read (the idea behind IDF). When no term is that rare, the scenes holding
    every term in one of their texts (a GIN intersection) pick, ``budget`` of them at most: a query of common words
    ("a person with a car") still finds the scenes that say it all, at any size of library."""
    rare = rare_terms(conn, st.params["user"], text, budget)
    documents = ("transcript_tsv", "ocr_tsv", "tags_tsv")
    if rare:
        terms = st.value(rare)
        holding = sql.SQL(" OR ").join(
            sql.SQL("s.{} @@ any_of({}::text[])").format(sql.Identifier(column), terms) for column in documents
        )
        return sql.SQL("SELECT s.id AS scene_id FROM scenes s WHERE s.user_id = {user} AND ({holding})").format(
            user=USER, holding=holding
        )
    every = st.value(text)
    holding = sql.SQL(" OR ").join(sql.SQL("s.{} @@ q").format(sql.Identifier(column)) for column in documents)
    return sql.SQL(
        """SELECT s.id AS scene_id FROM all_terms({text}) AS q, scenes s
           WHERE numnode(q) > 0 AND s.user_id = {user} AND ({holding}) LIMIT {budget}"""
    ).format(text=every, user=USER, holding=holding, budget=sql.Literal(int(budget)))


def lexical_scores(
    conn: Conn,
    user_id: uuid.UUID,
    text: str,
    filters: SearchFilters,
    within: Collection[int] | None = None,
    *,
    settings: Settings,
) -> dict[str, dict[int, float]]:
    """:func:`lexical_part` run alone: signal → scene id → rank. ``within``, the index path: those scenes are ranked,
    and the scenes the query's words pick (``picked_part``, with the budget of the user's library)."""
    st = Statement(user=user_id)
    among = None
    if within is not None:
        picked = picked_part(st, conn, text, lexical_budget(library_size(conn, user_id), settings))
        st.part("picked", picked)
        among = sql.SQL("array_cat({}::bigint[], (SELECT array_agg(scene_id) FROM picked))").format(
            st.value(list(within))
        )
    scores = scores_of(conn, st, lexical_part(st, text, filters, within=among))
    return {signal: scores.get(signal, {}) for signal in LEXICAL_SIGNALS}


def rare_terms(conn: Conn, user_id: uuid.UUID, text: str, budget: int) -> list[str]:
    """The query's terms that pick scenes on the index path: the rarest in the user's library, as long as
    together they are in at most ``budget`` scenes."""
    rows = conn.execute(
        """SELECT term, scenes FROM scene_terms
           WHERE user_id = %s AND term = ANY(tsvector_to_array(search_document(%s))) ORDER BY scenes, term""",
        (user_id, text),
    ).fetchall()
    rare = list[str]()
    for row in rows:
        budget -= row["scenes"]
        if budget < 0:
            break
        if "\\" not in row["term"]:  # quote_literal would write E'...', which a tsquery does not read
            rare.append(row["term"])
    return rare


def appearance_part(
    st: Statement,
    units: tuple[tuple[tuple[str, float], ...], ...],
    filters: SearchFilters,
    within: sql.Composable | None = None,
) -> sql.Composed:
    """How much of a query's appearance the user's scenes' tags show: the mean, over the query's units
    ('man', 'red shirt'), of the weight of the best alternative phrase found in the tags (0..1), as the signal
    ``appearance``. ``within``, the index path: only the scenes of that array are scored."""
    joins = sql.SQL("JOIN videos v ON v.id = s.video_id" if filters.on_videos else "")
    among = sql.SQL("AND s.id = ANY({})").format(within) if within is not None else sql.SQL("")
    cases: list[sql.Composable] = []
    found: list[sql.Composable] = []
    for unit in units:
        whens: list[sql.Composable] = []
        for phrase, weight in sorted(unit, key=lambda option: -option[1]):  # the best that matches
            matched = sql.SQL("phraseto_tsquery('english', {})").format(st.value(phrase))
            whens.append(sql.SQL("WHEN s.tags_tsv @@ {} THEN {}").format(matched, sql.Literal(float(weight))))
            found.append(matched)
        cases.append(sql.SQL("CASE {} ELSE 0 END").format(sql.SQL(" ").join(whens)))
    return sql.SQL(
        """SELECT scene_id, 'appearance' AS signal, raw FROM (
               SELECT s.id AS scene_id, ({cases}) / {units} AS raw FROM scenes s {joins}
               WHERE s.user_id = {user} AND s.tags_tsv @@ ({anything}) AND {where} {among}) AS shown
           WHERE raw > 0"""
    ).format(
        cases=sql.SQL(" + ").join(cases),
        units=sql.Literal(float(len(units))),
        joins=joins,
        user=USER,
        anything=sql.SQL(" || ").join(found),
        where=st.conditions(*filters.where()),
        among=among,
    )


def appearance_scores(
    conn: Conn,
    user_id: uuid.UUID,
    units: tuple[tuple[tuple[str, float], ...], ...],
    filters: SearchFilters,
    within: Collection[int] | None = None,
) -> dict[int, float]:
    """:func:`appearance_part` run alone: scene id → share."""
    if not units:
        return {}
    st = Statement(user=user_id)
    among = st.value(list(within)) if within is not None else None
    return scores_of(conn, st, appearance_part(st, units, filters, among)).get("appearance", {})


def person_part(
    st: Statement, names: tuple[str, ...], filters: SearchFilters, actions: tuple[str, ...] = ()
) -> sql.Composed:
    """How surely each of the user's scenes shows one of the named people (1 - face distance), as the signal
    ``person``; with ``actions`` ("Minji waving"), a scene where the person is not the one doing them counts
    ``NOT_DOING`` as much."""
    return sql.SQL(
        """SELECT sp.scene_id, 'person' AS signal,
                  max((1 - sp.distance) * CASE WHEN sp.actions @> {actions}::text[] THEN 1 ELSE {not_doing} END) AS raw
           FROM scene_people sp JOIN people p ON p.id = sp.person_id
                JOIN scenes s ON s.id = sp.scene_id JOIN videos v ON v.id = s.video_id
           WHERE p.user_id = {user} AND s.user_id = {user} AND lower(p.name) = ANY({names}) AND {where}
           GROUP BY sp.scene_id"""
    ).format(
        actions=st.value(list(actions)),
        not_doing=sql.Literal(NOT_DOING),
        user=USER,
        names=st.value([name.lower() for name in names]),
        where=st.conditions(*filters.where()),
    )


def phrase_condition(st: Statement, phrases: tuple[str, ...]) -> sql.Composed:
    """Whether scene ``s``'s speech, screen text or tags contain every phrase exactly (ignoring case)."""
    return sql.SQL(" AND ").join(
        sql.SQL("(s.transcript ILIKE {p} OR s.ocr_text ILIKE {p} OR s.tag_text ILIKE {p})").format(
            p=st.value("%" + _escape_like(phrase) + "%")
        )
        for phrase in phrases
    )


def phrase_scenes(
    conn: Conn,
    user_id: uuid.UUID,
    phrases: tuple[str, ...],
    filters: SearchFilters,
    among: Collection[int] | None = None,
) -> set[int]:
    """The user's scenes (of ``among`` when given) holding every phrase (:func:`phrase_condition`)."""
    st = Statement(user=user_id)
    among_ids = sql.SQL("AND s.id = ANY({})").format(st.value(list(among))) if among is not None else sql.SQL("")
    body = sql.SQL(
        """SELECT s.id FROM scenes s JOIN videos v ON v.id = s.video_id
           WHERE s.user_id = {user} AND {contains} AND {where} {among}"""
    ).format(user=USER, contains=phrase_condition(st, phrases), where=st.conditions(*filters.where()), among=among_ids)
    return {row[0] for row in st.rows(conn, body)}


def person_names(conn: Conn, user_id: uuid.UUID) -> list[str]:
    """The names of the user's people (suggested, unnamed people have none)."""
    rows = conn.execute("SELECT name FROM people WHERE user_id = %s AND name IS NOT NULL", (user_id,)).fetchall()
    return [row["name"] for row in rows]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def showing_condition(st: Statement, things: tuple[str, ...]) -> sql.Composed:
    """Whether scene ``s``'s tags name at least one of ``things`` (any form: 'bottles' for 'bottle')."""
    return sql.SQL(
        "EXISTS (SELECT 1 FROM unnest({}::text[]) AS thing WHERE s.tags_tsv @@ phraseto_tsquery('english', thing))"
    ).format(st.value(list(things)))


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
