"""Moment search: ``search(db, user_id, query)`` → ranked moments of that user's videos.

    query understanding (query.py) → channel retrieval, one SQL query each (channels.py)
    → calibration and fusion with a relevance floor (fusion.py) → moments (results.py)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from heimdex.db import Database
from heimdex.errors import BadInput
from heimdex.models.registry import Registry, get_registry
from heimdex.search.channels import (
    TEXT_SIGNALS,
    SearchFilters,
    lexical_scores,
    model_id,
    person_names,
    person_scores,
    phrase_scenes,
    vector_scores,
)
from heimdex.search.fusion import CHANNELS, Fused, FusionConfig, fuse
from heimdex.search.query import ParsedQuery, parse_query
from heimdex.search.results import Moment, build_moments, scene_details

MAX_PAGE_SIZE = 100

__all__ = ["Moment", "SearchFilters", "SearchPage", "search"]


@dataclass(frozen=True)
class SearchPage:
    query: ParsedQuery
    moments: list[Moment]
    total: int  # moments above the floor, over all pages
    page: int
    page_size: int


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
) -> SearchPage:
    """One page of the user's moments that match ``query``, best first; none when nothing is relevant."""
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise BadInput("bad_page", f"Pages start at 1 and hold 1 to {MAX_PAGE_SIZE} results.")
    filters = filters or SearchFilters()
    registry = registry or get_registry()
    config = config or FusionConfig.load()
    with db.transaction() as conn:
        parsed = parse_query(query, person_names(conn, user_id))
    if parsed.empty:
        return SearchPage(parsed, [], 0, page, page_size)
    raw = raw_scores(db, user_id, parsed, filters, registry)
    with db.transaction() as conn:
        allowed = phrase_scenes(conn, user_id, parsed.phrases, filters) if parsed.phrases else None
        hits = select_hits(parsed, raw, config, allowed)
        details = scene_details(conn, user_id, [hit.scene_id for hit in hits])
    moments = build_moments(hits, details, parsed, list(parsed.people))
    first = (page - 1) * page_size
    return SearchPage(parsed, moments[first : first + page_size], len(moments), page, page_size)


def select_hits(parsed: ParsedQuery, raw: dict[str, dict[int, float]], config: FusionConfig, allowed: set[int] | None) -> list[Fused]:
    """The scenes that pass: fused above the floor, holding every quoted phrase (``allowed``) and every named person."""
    hits = fuse(raw, config)
    if allowed is not None:
        hits = [hit for hit in hits if hit.scene_id in allowed]
    if parsed.people:  # a named person must be there, whatever else matched
        hits = [hit for hit in hits if "person" in hit.signals]
    return hits


def raw_scores(db: Database, user_id: uuid.UUID, parsed: ParsedQuery, filters: SearchFilters, registry: Registry) -> dict:
    """Raw scores per signal (signal → scene id → score) from every channel the filters allow."""
    wanted = set(filters.channels or CHANNELS)
    signals = {signal for channel in wanted for signal in CHANNELS[channel]}
    text_channels = {channel: signal for channel, signal in TEXT_SIGNALS.items() if signal in signals}
    raw: dict[str, dict[int, float]] = {}
    embedder = registry.get("text")
    query_vector = embedder.embed_queries([parsed.text])[0] if parsed.text and text_channels else None
    clip_vector = None
    if parsed.text and "clip_vec" in signals and registry.has("clip"):
        clip_vector = registry.get("clip").embed_texts([parsed.text])[0]
    with db.transaction() as conn:
        if query_vector is not None:
            text_model = model_id(conn, embedder.info.name, embedder.info.version)
            if text_model is not None:
                raw.update(vector_scores(conn, user_id, text_model, query_vector, text_channels, filters))
        if clip_vector is not None:
            info = registry.info("clip")
            clip_model = model_id(conn, info.name, info.version)
            if clip_model is not None:
                raw.update(vector_scores(conn, user_id, clip_model, clip_vector, {"visual": "clip_vec"}, filters))
        if parsed.text:
            lexical = lexical_scores(conn, user_id, parsed.text, filters)
            raw.update({signal: scores for signal, scores in lexical.items() if signal in signals})
        if parsed.people and "person" in signals:
            raw["person"] = person_scores(conn, user_id, parsed.people, filters)
    return raw
