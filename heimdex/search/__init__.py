"""Moment search: ``search(db, user_id, query)`` → ranked moments of that user's videos.

query understanding (query.py) → one SQL statement: channel retrieval, a part each (channels.py), calibration
and fusion with a relevance floor (fusion.py), grouping into runs of adjacent scenes and the page (results.py)
→ the page's moments localised to their evidence (results.py). Only the page's scenes leave the database.
"""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from dataclasses import dataclass, replace

import numpy as np
from psycopg import sql

from heimdex.config import Settings, get_settings
from heimdex.db import Conn, Database
from heimdex.db.statement import Statement
from heimdex.errors import BadInput
from heimdex.models.registry import Registry, get_registry
from heimdex.search.channels import (
    LEXICAL_SIGNALS,
    TEXT_SIGNALS,
    USER,
    SearchFilters,
    appearance_part,
    best_pieces,
    index_scan,
    known_words,
    lexical_budget,
    lexical_part,
    library_size,
    model_row,
    nearest_part,
    person_names,
    person_part,
    phrase_condition,
    picked_part,
    scores_of,
    showing_condition,
    vector_part,
)
from heimdex.search.fusion import CHANNELS, Fused, FusionConfig, fuse, fusion_sql
from heimdex.search.query import (
    KOREAN_FILLERS,
    QUOTED,
    ParsedQuery,
    actions_in,
    corrected_text,
    looks_like_name,
    parse_query,
    sight_words,
    spelling,
    strip_particle,
)
from heimdex.search.results import STOPWORDS, Moment, Pieces, moments_of, page_sql, reasons, runs_of

MAX_PAGE_SIZE = 100
MAX_CORRECTED = 5  # misspelt words corrected per query, at most
PUNCTUATION = ".,!?;:"

__all__ = ["Moment", "SearchFilters", "SearchPage", "search"]

TRANSLATED = ("ocr_text", "tags_text")  # where a query's translated words are looked for (not speech: one word of
# the other language is rarely what was said)
SIGHTED = ("tags_vec", "tags_text", "appearance")  # the signals that read the taggers' words
QueryVector = tuple[tuple[str, str], np.ndarray, dict[str, str]]  # (model, the query's vector, channel → signal)


@dataclass(frozen=True)
class SearchPage:
    query: ParsedQuery
    moments: list[Moment]
    total: int  # moments above the floor over all pages, as runs of adjacent scenes (a run whose evidence lies far
    # apart is shown as its parts, together on its page)
    page: int
    page_size: int
    corrected: str | None = None  # the query as searched, when a word was misspelt ("did you mean")
    unknown_names: tuple[str, ...] = ()  # a query's only word that reads as a name and is nobody and nothing here


def search(
    db: Database,
    user_id: uuid.UUID,
    query: str,
    filters: SearchFilters | None = None,
    page: int = 1,
    page_size: int = 20,
    *,
    registry: Registry | None = None,
    config: FusionConfig | None = None,
    settings: Settings | None = None,
) -> SearchPage:
    """One page of the user's moments that match ``query``, best first; none when nothing is relevant.

    ``registry``, ``config`` (fusion) and ``settings`` (the index path's limits) are the app's own unless given."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise BadInput("bad_page", f"Pages start at 1 and hold 1 to {MAX_PAGE_SIZE} results.")
    filters = filters or SearchFilters()
    registry = registry or get_registry()
    config = config or FusionConfig.load()
    settings = settings or get_settings()

    def find(conn: Conn) -> SearchPage:  # one connection and one snapshot for the whole query
        parsed, corrected, unknown = understand(conn, user_id, query, filters)
        if parsed.empty:
            return SearchPage(parsed, [], 0, page, page_size, corrected, unknown)
        vectors = query_vectors(parsed, filters, registry)
        st, raw, indexed = raw_statement(conn, user_id, parsed, filters, settings, vectors)
        hits = st.part("hits", select_sql(st, parsed, raw, config, unknown))
        statement = st.query(page_sql(st, hits, (page - 1) * page_size, page_size))
        with index_scan(conn, settings) if indexed else nullcontext():
            rows = conn.execute(statement, st.params, prepare=False).fetchall()
        runs, details = runs_of(rows)
        pieces = nearest_pieces(conn, user_id, vectors, [hit for run in runs for hit in run.hits])
        people = list(parsed.people)
        found = [m for run in runs for m in moments_of(run, details, parsed, people, config.tier, pieces)]
        found.sort(key=lambda m: (-m.score, str(m.video_id), m.start_s))
        return SearchPage(parsed, found, int(rows[0]["total"]), page, page_size, corrected, unknown)

    return db.read(find)


def nearest_pieces(conn: Conn, user_id: uuid.UUID, vectors: list[QueryVector], hits: list[Fused]) -> Pieces:
    """For the hits whose speech or screen text is a reason, the piece of it nearest the query: where a match in
    meaning is (the line, the sentence)."""
    pieces: Pieces = {}
    for model, vector, channels in vectors:
        for channel in ("transcript", "ocr"):
            read = [hit.scene_id for hit in hits if channel in reasons(hit.channels)]
            if channel in channels and read:
                pieces[channel] = best_pieces(conn, user_id, model, vector, channel, read)
    return pieces


def understand(
    conn: Conn, user_id: uuid.UUID, query: str, filters: SearchFilters
) -> tuple[ParsedQuery, str | None, tuple[str, ...]]:
    """The query parsed; misspelt words corrected (and the corrected text, else None); and, for a query of one word
    besides what it does ("소라", "소라가 웃는 장면"), that word when it reads as a name and is nobody and nothing in the
    library, for the page to say so when nothing is found (and only a strong match to pass).

    A word is corrected only outside quotes, when the library does not hold it, and only into a word the library
    holds or a thing the taggers name: "bycicle" becomes "bicycle", "wifi" does not become "wife"."""
    names = person_names(conn, user_id)
    parsed = parse_query(query, names)
    if filters.person and filters.person.casefold() not in {name.casefold() for name in parsed.people}:
        parsed = replace(parsed, people=(*parsed.people, filters.person))  # the filter alone finds the person's scenes
    named = {word.casefold() for name in parsed.people for word in name.split()}
    words = [
        w
        for w in (token.strip(PUNCTUATION) for token in QUOTED.sub(" ", parsed.raw).split())
        if w
        and w.casefold() not in STOPWORDS
        and strip_particle(w.casefold()) not in named
        and w.casefold() not in named
    ]
    known: set[str] = known_words(conn, user_id, words) if words else set()
    unknown = [w for w in words if w not in known]
    tried = {w: spelling(w) for w in [w for w in unknown if not w[:1].isupper()][:MAX_CORRECTED]}
    offered = {fix for fix in tried.values() if fix}
    useful: set[str] = known_words(conn, user_id, list(offered)) if offered else set()
    fixes = {w: fix for w, fix in tried.items() if fix and (fix in useful or sight_words(fix))}
    corrected = None
    if fixes:
        corrected = corrected_text(parsed.raw, fixes)
        parsed = replace(parse_query(corrected, names), people=parsed.people, raw=parsed.raw)
    content = [w for w in words if w not in KOREAN_FILLERS and not actions_in(w)]
    if len(content) != 1 or parsed.phrases:  # a name alone or with what it does ("Sora waving"), never a sentence
        return parsed, corrected, ()
    names_said = (strip_particle(w) for w in unknown if w not in fixes and looks_like_name(w))  # "소라가": 소라
    return parsed, corrected, tuple(dict.fromkeys(names_said))


def select_hits(
    parsed: ParsedQuery,
    raw: dict[str, dict[int, float]],
    config: FusionConfig,
    allowed: set[int] | None,
    unknown: tuple[str, ...] = (),
) -> list[Fused]:
    """The scenes that pass: fused above the floor, holding every quoted phrase (``allowed``) and every named person.

    A query of an ``unknown`` name (``understand``: "소라", "Sora waving": nobody enrolled, nothing in the library
    says so) has nothing to find by its words: only a strong match in meaning passes (a noun the vocabulary does not know
    and that reads as a name, "강아지", still finds the dog the tags name)."""
    hits = fuse(raw, config, floor=config.strong if unknown else None)
    if allowed is not None:
        hits = [hit for hit in hits if hit.scene_id in allowed]
    if parsed.people:  # a named person must be there, whatever else matched
        hits = [hit for hit in hits if "person" in hit.signals]
    return hits


def select_sql(
    st: Statement, parsed: ParsedQuery, raw: sql.Composable, config: FusionConfig, unknown: tuple[str, ...]
) -> sql.Composed:
    """:func:`select_hits` in SQL over the relation ``raw``: the fused scenes that pass, as ``fusion_sql`` gives."""
    fused = st.part("passed", fusion_sql(st, raw, config, config.strong if unknown else config.floor))
    conditions: list[sql.Composable] = [sql.SQL("true")]
    if parsed.phrases:
        conditions.append(
            sql.SQL("EXISTS (SELECT 1 FROM scenes s WHERE s.id = f.scene_id AND {})").format(
                phrase_condition(st, parsed.phrases)
            )
        )
    if parsed.people:
        conditions.append(sql.SQL("f.person"))
    return sql.SQL("SELECT * FROM {} f WHERE {}").format(fused, sql.SQL(" AND ").join(conditions))


def query_vectors(parsed: ParsedQuery, filters: SearchFilters, registry: Registry) -> list[QueryVector]:
    """The query embedded once per model the channels the filters allow compare with."""
    signals = {signal for channel in set(filters.channels or CHANNELS) for signal in CHANNELS[channel]}
    text_channels = {channel: signal for channel, signal in TEXT_SIGNALS.items() if signal in signals}
    vectors: list[QueryVector] = []
    if parsed.text and text_channels:
        embedder = registry.get("text")
        model = (embedder.info.name, embedder.info.version)
        vectors.append((model, embedder.embed_queries([parsed.text])[0], text_channels))
    if parsed.text and "clip_vec" in signals and registry.has("clip"):
        model = (registry.info("clip").name, registry.info("clip").version)
        vectors.append((model, registry.get("clip").embed_texts([parsed.text])[0], {"visual": "clip_vec"}))
    return vectors


def raw_scores(
    conn: Conn,
    user_id: uuid.UUID,
    parsed: ParsedQuery,
    filters: SearchFilters,
    registry: Registry,
    settings: Settings,
    vectors: list[QueryVector] | None = None,
) -> dict[str, dict[int, float]]:
    """Raw scores per signal (signal → scene id → score): :func:`raw_statement` run alone, for tuning."""
    vectors = query_vectors(parsed, filters, registry) if vectors is None else vectors
    st, raw, indexed = raw_statement(conn, user_id, parsed, filters, settings, vectors)
    body = sql.SQL("SELECT scene_id, signal, raw FROM {}").format(raw)
    with index_scan(conn, settings) if indexed else nullcontext():
        return scores_of(conn, st, body)


def raw_statement(
    conn: Conn,
    user_id: uuid.UUID,
    parsed: ParsedQuery,
    filters: SearchFilters,
    settings: Settings,
    vectors: list[QueryVector],
) -> tuple[Statement, sql.Identifier, bool]:
    """The statement's parts scoring the user's scenes on every channel the filters allow, and the name of the
    one that gives them all as ``(scene_id, signal, raw)``; and whether it takes the index path (run it inside
    :func:`~heimdex.search.channels.index_scan`).

    A large library without filters takes the index path (:mod:`heimdex.search.channels`): each channel's
    nearest scenes, the scenes the query's words pick and the named people's are the candidates, and every
    channel scores them. Where the query names things a tagger can see, the tags count only in scenes whose tags
    name one of them: a neighbour in meaning ("smiling" for "crying") or a part of the query ("man" of "man
    crying") is not what was asked."""
    st = Statement(user=user_id)
    signals = {signal for channel in set(filters.channels or CHANNELS) for signal in CHANNELS[channel]}
    parts: list[sql.Composable] = []
    person = None
    if parsed.people and "person" in signals:
        person = st.part("person", person_part(st, parsed.people, filters, parsed.actions))
        parts.append(sql.SQL("SELECT * FROM {}").format(person))
    within = None
    size = 0 if filters.on_videos else library_size(conn, user_id)
    indexed = size >= settings.ann_min_scenes
    if indexed:
        within = candidates(st, conn, parsed, vectors, person, lexical_budget(size, settings), settings)
    lexical = [signal for signal in LEXICAL_SIGNALS if signal in signals]
    if parsed.text and lexical:
        parts.append(lexical_part(st, parsed.text, filters, lexical, within))
        translated = [signal for signal in TRANSLATED if signal in lexical]
        if parsed.translated and translated:  # the words in the other language: screen text and tags (in English)
            parts.append(lexical_part(st, " ".join(parsed.translated), filters, translated, within))
    for model, vector, channels in vectors:
        parts.append(vector_part(st, model, vector, channels, filters, within))
    if parsed.appearance and "appearance" in signals:
        parts.append(appearance_part(st, parsed.appearance, filters, within))
    union = (
        sql.SQL(" UNION ALL ").join(sql.SQL("({})").format(part) for part in parts)
        if parts
        else sql.SQL("SELECT NULL::bigint AS scene_id, NULL::text AS signal, NULL::float8 AS raw WHERE false")
    )
    best = sql.SQL("SELECT scene_id, signal, max(raw)::float8 AS raw FROM ({}) AS found GROUP BY scene_id, signal")
    if not parsed.sight:
        return st, st.part("raw", best.format(union)), indexed
    scored = st.part("unsighted", best.format(union))
    sighted = st.value(list(SIGHTED))
    raw = st.part(
        "raw",
        sql.SQL(
            """SELECT * FROM {scored} WHERE signal <> ALL({sighted}) OR scene_id IN (
                   SELECT s.id FROM scenes s WHERE s.user_id = {user} AND {showing}
                      AND s.id IN (SELECT scene_id FROM {scored} WHERE signal = ANY({sighted})))"""
        ).format(scored=scored, sighted=sighted, user=USER, showing=showing_condition(st, parsed.sight)),
    )
    return st, raw, indexed


def candidates(
    st: Statement,
    conn: Conn,
    parsed: ParsedQuery,
    vectors: list[QueryVector],
    person: sql.Identifier | None,
    budget: int,
    settings: Settings,
) -> sql.Composed:
    """The index path's candidates, as an array: the named people's scenes, each channel's nearest through the
    index (a channel where it found none of the user's rows, a graph cut off by duplicates, whole), and the
    scenes the query's words pick (up to ``budget``)."""
    sources: list[sql.Composable] = []
    if person is not None:
        sources.append(sql.SQL("SELECT scene_id FROM {}").format(person))
    for n, (model, vector, channels) in enumerate(vectors):
        found = model_row(conn, model)
        if found is None:
            continue
        nearest = st.part(f"nearest_{n}", nearest_part(st, found, vector, channels, settings.ann_candidates))
        sources.append(sql.SQL("SELECT scene_id FROM {}").format(nearest))
        for channel, signal in channels.items():
            sources.append(
                sql.SQL(
                    """SELECT scene_id FROM scene_vectors WHERE user_id = {user} AND model_id = {model}
                       AND channel = {channel} AND NOT EXISTS (SELECT 1 FROM {nearest} WHERE signal = {signal})"""
                ).format(
                    user=USER,
                    model=sql.Literal(found[0]),
                    channel=sql.Literal(channel),
                    nearest=nearest,
                    signal=sql.Literal(signal),
                )
            )
    for text in (parsed.text, " ".join(parsed.translated)):
        if text:
            sources.append(picked_part(st, conn, text, budget))
    if not sources:
        return sql.Composed([sql.SQL("ARRAY[]::bigint[]")])
    found_all = st.part("candidates", sql.SQL(" UNION ").join(sql.SQL("({})").format(s) for s in sources))
    ids = st.part("candidate_ids", sql.SQL("SELECT array_agg(scene_id) AS ids FROM {}").format(found_all))
    return sql.SQL("(SELECT ids FROM {})::bigint[]").format(ids)  # an array, not a set: the index on ids is read
