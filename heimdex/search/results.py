"""Results: fused scenes become moments (adjacent scenes of one moment merged), with their explanation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from heimdex.db import Conn
from heimdex.search.fusion import Fused
from heimdex.search.query import HANGUL, ParsedQuery, strip_particle

SNIPPET_WORDS = 24
STOPWORDS = frozenset("a an and are as at be by for from in is it of on or the this to was were with what".split())


Row = dict[str, Any]  # a row as the database gives it


@dataclass
class Moment:
    video_id: uuid.UUID
    title: str
    filename: str
    start_s: float  # where the player starts: the first matching spoken word, else the scene start
    end_s: float
    scene_start_s: float
    score: float
    channels: dict[str, float]  # channel → calibrated score: why it matched
    thumbnail: str | None  # blob key of the best scene's keyframe
    thumbnail_scene: int | None  # that scene's id
    transcript_snippet: str = ""  # matched words marked **like this**
    ocr_snippet: str = ""
    tags: list[str] = field(default_factory=list[str])  # the scene tags the query matched
    tag_evidence: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])  # those tags' source, confidence
    caption: str = ""  # the best scene's sentence, matched words marked **like this**
    people: list[str] = field(default_factory=list[str])
    scene_ids: list[int] = field(default_factory=list[int])
    on_screen: dict[str, list[list[float]]] = field(
        default_factory=dict[str, list[list[float]]]
    )  # the named people's times on screen

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.__dict__)
        data["video_id"] = str(self.video_id)
        data["start_s"], data["end_s"], data["scene_start_s"] = (
            round(v, 3) for v in (self.start_s, self.end_s, self.scene_start_s)
        )
        data["score"] = round(self.score, 4)
        return data


@dataclass
class Run:
    """Adjacent matching scenes of one video: one moment before it is described."""

    video_id: uuid.UUID
    scenes: list[Row]  # id, idx, start_s, end_s; in order
    hits: list[Fused]

    @property
    def score(self) -> float:
        return max(hit.score for hit in self.hits)

    @property
    def start_s(self) -> float:
        return self.scenes[0]["start_s"]


def scene_spans(conn: Conn, user_id: uuid.UUID, scene_ids: list[int]) -> dict[int, Row]:
    """Where each fused scene is (scoped to the user once more)."""
    rows = conn.execute(
        "SELECT id, video_id, idx, start_s, end_s FROM scenes WHERE user_id = %s AND id = ANY(%s)", (user_id, scene_ids)
    ).fetchall()
    return {row["id"]: row for row in rows}


def scene_details(conn: Conn, user_id: uuid.UUID, scene_ids: list[int]) -> dict[int, Row]:
    """What a result shows of its scenes."""
    rows = conn.execute(
        """SELECT s.id, s.video_id, s.idx, s.start_s, s.end_s, s.words, s.ocr_text, s.tags, s.caption, s.keyframe_key,
                  v.title, v.filename,
                  (SELECT jsonb_object_agg(p.name, sp.seen) FROM scene_people sp JOIN people p ON p.id = sp.person_id
                   WHERE sp.scene_id = s.id AND p.user_id = %s AND p.name IS NOT NULL) AS on_screen
           FROM scenes s JOIN videos v ON v.id = s.video_id
           WHERE s.user_id = %s AND s.id = ANY(%s)""",
        (user_id, user_id, scene_ids),
    ).fetchall()
    return {row["id"]: row for row in rows}


def group_runs(hits: list[Fused], spans: dict[int, Row]) -> list[Run]:
    """Hits grouped into runs of adjacent scenes per video, best first (ties in a stable order)."""
    by_video: dict[uuid.UUID, list[tuple[Row, Fused]]] = {}
    for hit in hits:
        if hit.scene_id in spans:
            by_video.setdefault(spans[hit.scene_id]["video_id"], []).append((spans[hit.scene_id], hit))
    runs: list[Run] = []
    for video_id, pairs in by_video.items():
        pairs.sort(key=lambda pair: pair[0]["idx"])
        current = Run(video_id, [pairs[0][0]], [pairs[0][1]])
        for span, hit in pairs[1:]:
            if span["idx"] == current.scenes[-1]["idx"] + 1:
                current.scenes.append(span)
                current.hits.append(hit)
            else:
                runs.append(current)
                current = Run(video_id, [span], [hit])
        runs.append(current)
    return sorted(runs, key=lambda run: (-run.score, str(run.video_id), run.start_s))


def describe(run: Run, details: dict[int, Row], query: ParsedQuery, people: list[str]) -> Moment:
    """The moment a run is, with what matched marked."""
    rows = [details[span["id"]] for span in run.scenes]
    best = max(zip(rows, run.hits), key=lambda pair: pair[1].score)[0]
    channels: dict[str, float] = {}
    for hit in run.hits:
        for channel, value in hit.channels.items():
            channels[channel] = max(channels.get(channel, 0.0), value)
    words = [word for row in rows for word in row["words"]]
    matches = Matcher(query.terms)
    first_match = next((w for w in words if matches(w["w"])), None)
    start = rows[0]["start_s"]
    on_screen: dict[str, list[list[float]]] = {}
    for row in rows:
        seen: dict[str, list[list[float]]] = row.get("on_screen") or {}
        for name, spans in seen.items():
            on_screen.setdefault(name, []).extend(sorted(spans))
    asked = [span for name in people if "person" in channels for span in on_screen.get(name, [])]
    phrases = [re.compile(rf"\b{re.escape(phrase)}\b") for unit in query.appearance for phrase, _ in unit]
    evidence: dict[str, dict[str, Any]] = {}
    for row in rows:
        for tag in row["tags"]:
            if any(matches(w) for w in tag["tag"].split()) or any(p.search(tag["tag"]) for p in phrases):
                if tag["tag"] not in evidence or tag["confidence"] > evidence[tag["tag"]]["confidence"]:
                    evidence[tag["tag"]] = tag
    return Moment(
        video_id=run.video_id,
        title=best["title"],
        filename=best["filename"],
        start_s=first_match["s"]
        if first_match and "transcript" in channels
        else min((a for a, _ in asked), default=start),
        end_s=rows[-1]["end_s"],
        scene_start_s=start,
        score=run.score,
        channels=channels,
        thumbnail=best["keyframe_key"],
        thumbnail_scene=best["id"],
        transcript_snippet=_snippet([str(w["w"]) for w in words], matches),
        ocr_snippet=_snippet(" ".join(row["ocr_text"] for row in rows).split(), matches),
        tags=sorted(evidence),
        tag_evidence=sorted(evidence.values(), key=lambda t: -t["confidence"]),
        caption=_snippet(best["caption"].split(), matches, len(best["caption"].split())),
        people=people if "person" in channels else [],
        scene_ids=[row["id"] for row in rows],
        on_screen=on_screen,
    )


def build_moments(hits: list[Fused], details: dict[int, Row], query: ParsedQuery, people: list[str]) -> list[Moment]:
    """Every moment of ``hits``, described (``details`` must hold all their scenes)."""
    return [describe(run, details, query, people) for run in group_runs(hits, details)]


class Matcher:
    """Whether a spoken or written word is one of the query's terms, loosely ('running' for 'run',
    '고양이가' for '고양이'): each term becomes a prefix once, so a word costs one ``startswith``."""

    _NOT_WORD = re.compile(r"[^\w'-]")

    def __init__(self, terms: tuple[str, ...]):
        useful = [t for t in terms if t not in STOPWORDS and len(t) >= 2]
        self.exact = frozenset(useful)
        self.prefixes = tuple(
            strip_particle(t) if HANGUL.search(t) else (t[: max(3, len(t) - 2)] if len(t) >= 5 else t)
            for t in useful
            if HANGUL.search(t) or len(t) >= 3
        )

    def __call__(self, word: str) -> bool:
        bare = self._NOT_WORD.sub("", word.casefold())
        return bool(bare) and (bare in self.exact or bare.startswith(self.prefixes))


def _snippet(words: Sequence[str], matches: Matcher, length: int = SNIPPET_WORDS) -> str:
    """Up to ``length`` words around the first match, matches marked ``**like this**``."""
    if not words:
        return ""
    hits = [i for i, word in enumerate(words) if matches(word)]
    start = max(0, (hits[0] if hits else 0) - length // 3)
    shown = [f"**{w}**" if i in hits else w for i, w in enumerate(words[start : start + length], start)]
    return ("… " if start else "") + " ".join(shown) + (" …" if start + length < len(words) else "")
