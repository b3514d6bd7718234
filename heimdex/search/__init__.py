"""Moment search: ``search(db, user_id, query)`` → ranked moments of that user's videos.

query understanding (query.py) → channel retrieval, one SQL query each (channels.py)
→ calibration and fusion with a relevance floor (fusion.py) → moments localised to their evidence (results.py)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

import numpy as np

from heimdex.config import Settings, get_settings
from heimdex.db import Conn, Database
from heimdex.errors import BadInput
from heimdex.models.registry import Registry, get_registry
from heimdex.search.channels import (
    TEXT_SIGNALS,
    SearchFilters,
    appearance_scores,
    best_pieces,
    known_words,
    large_library,
    lexical_scores,
    person_names,
    person_scores,
    phrase_scenes,
    scenes_showing,
    vector_scores,
)
from heimdex.search.fusion import CHANNELS, Fused, FusionConfig, fuse
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
from heimdex.search.results import STOPWORDS, Moment, Pieces, build_moments, reasons, scene_details

MAX_PAGE_SIZE = 100
MAX_CORRECTED = 5  # misspelt words corrected per query, at most
MAX_DESCRIBED = 1000  # the best scenes above the floor made into moments; weaker ones are not shown or counted
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
    total: int  # moments above the floor, over all pages
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
    with db.transaction() as conn:  # one connection and one snapshot for the whole query
        parsed, corrected, unknown = understand(conn, user_id, query, filters)
        if parsed.empty:
            return SearchPage(parsed, [], 0, page, page_size, corrected, unknown)
        vectors = query_vectors(parsed, filters, registry)
        raw = raw_scores(conn, user_id, parsed, filters, registry, settings, vectors)
        scored = {scene_id for scores in raw.values() for scene_id in scores}
        allowed = phrase_scenes(conn, user_id, parsed.phrases, filters, scored) if parsed.phrases else None
        hits = select_hits(parsed, raw, config, allowed, unknown)[:MAX_DESCRIBED]
        details = scene_details(conn, user_id, [hit.scene_id for hit in hits])
        pieces = nearest_pieces(conn, user_id, vectors, hits)
    found = build_moments(hits, details, parsed, list(parsed.people), config.tier, pieces)
    shown = found[(page - 1) * page_size : page * page_size]
    return SearchPage(parsed, shown, len(found), page, page_size, corrected, unknown)


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
    """Raw scores per signal (signal → scene id → score) from every channel the filters allow.

    A large library without filters takes the index path (:mod:`heimdex.search.channels`): each channel's
    nearest scenes, with the scenes of the query's rare words, are the candidates, and every channel scores them.
    Where the query names things a tagger can see, the tags count only in scenes whose tags name one of them: a
    neighbour in meaning ("smiling" for "crying") or a part of the query ("man" of "man crying") is not what was asked.
    """
    signals = {signal for channel in set(filters.channels or CHANNELS) for signal in CHANNELS[channel]}
    vectors = query_vectors(parsed, filters, registry) if vectors is None else vectors
    raw: dict[str, dict[int, float]] = {}
    if parsed.people and "person" in signals:
        raw["person"] = person_scores(conn, user_id, parsed.people, filters, parsed.actions)
    near: set[int] | None = None  # the index path's candidates; None: every scene
    if not filters.on_videos and large_library(conn, user_id, settings):
        near = set(raw.get("person", {}))  # the named people's scenes, each channel's nearest through the index, ...
        for model, vector, channels in vectors:
            for scores in vector_scores(
                conn, user_id, model, vector, channels, filters, approximate=True, settings=settings
            ).values():
                near.update(scores)
    if parsed.text:
        lexical = lexical_scores(conn, user_id, parsed.text, filters, near, settings=settings)
        if parsed.translated:  # the words in the other language: for screen text, and for the tags (in English)
            other = lexical_scores(conn, user_id, " ".join(parsed.translated), filters, near, settings=settings)
            for signal in TRANSLATED:
                for scene_id, rank in other[signal].items():
                    lexical[signal][scene_id] = max(rank, lexical[signal].get(scene_id, 0.0))
        raw.update({signal: scores for signal, scores in lexical.items() if signal in signals})
        if near is not None:  # ... and the scenes of the query's rare words
            near.update(scene_id for scores in lexical.values() for scene_id in scores)
    for model, vector, channels in vectors:  # every candidate scored on every channel, as on the exact path
        raw.update(vector_scores(conn, user_id, model, vector, channels, filters, within=near, settings=settings))
    if parsed.appearance and "appearance" in signals:
        raw["appearance"] = appearance_scores(conn, user_id, parsed.appearance, filters, near)
    sighted = [signal for signal in SIGHTED if raw.get(signal)]
    if parsed.sight and sighted:
        showing = scenes_showing(conn, user_id, parsed.sight, {s for signal in sighted for s in raw[signal]})
        for signal in sighted:
            raw[signal] = {scene_id: v for scene_id, v in raw[signal].items() if scene_id in showing}
    return raw
