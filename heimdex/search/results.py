"""Results: fused scenes become moments (adjacent scenes of one moment merged), with their explanation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from heimdex.db import Conn
from heimdex.search.fusion import Fused
from heimdex.search.query import HANGUL, ParsedQuery, strip_particle

SNIPPET_WORDS = 24
STOPWORDS = frozenset("a an and are as at be by for from in is it of on or the this to was were with what".split())


Row = dict[str, Any]  # a row as the database gives it


LEAD_IN_S = 1.0  # the Player starts this long before the evidence
MAX_MOMENT_S = 20.0  # a moment lasts at most this long, unless its evidence is one longer spoken passage
MIN_MOMENT_S = 3.0  # ... and at least this long (a single word is a moment of a few seconds)
JOIN_GAP_S = 2.5  # pieces of evidence closer than this are one moment (across scenes too)
REASON_SHARE = 0.5  # a channel is a reason when its score is at least this share of the best channel's


@dataclass
class Moment:
    video_id: uuid.UUID
    title: str
    filename: str
    start_s: float  # where the evidence begins: the first matched word, the line's first frame, the person's entry
    end_s: float  # where it ends (at most MAX_MOMENT_S later, unless a spoken passage runs on)
    scene_start_s: float
    score: float  # calibrated probability that this is what was asked for
    channels: dict[str, float]  # channel → calibrated score: why it matched
    thumbnail: str | None  # blob key of the keyframe nearest the evidence
    thumbnail_scene: int | None  # that scene's id
    play_s: float = 0.0  # where the Player starts: LEAD_IN_S before the evidence
    tier: str = "possible"  # "strong" or "possible"
    transcript_snippet: str = ""  # matched words marked **like this** (only when speech is a reason)
    ocr_snippet: str = ""  # the matched on-screen line(s), marked (only when screen text is a reason)
    tags: list[str] = field(default_factory=list[str])  # the scene tags the query matched
    tag_evidence: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])  # those tags' source, confidence
    caption: str = ""  # the best scene's sentence, matched words marked **like this** (when the picture is a reason)
    people: list[str] = field(default_factory=list[str])
    scene_ids: list[int] = field(default_factory=list[int])
    on_screen: dict[str, list[list[float]]] = field(
        default_factory=dict[str, list[list[float]]]
    )  # the named people's times on screen

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.__dict__)
        data["video_id"] = str(self.video_id)
        for name in ("start_s", "end_s", "scene_start_s", "play_s"):
            data[name] = round(getattr(self, name), 3)
        data["score"] = round(self.score, 4)
        data["channels"] = {channel: round(value, 3) for channel, value in self.channels.items()}
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


@dataclass(frozen=True)
class Evidence:
    """Where in a scene something the query asks for is: said, written, seen or someone on screen."""

    start_s: float
    end_s: float
    channel: str
    scene_id: int
    strength: float  # the scene's score: where evidence of several scenes competes, the best scene's wins
    text: str = ""  # an on-screen line's words


def scene_spans(conn: Conn, user_id: uuid.UUID, scene_ids: list[int]) -> dict[int, Row]:
    """Where each fused scene is (scoped to the user once more)."""
    rows = conn.execute(
        "SELECT id, video_id, idx, start_s, end_s FROM scenes WHERE user_id = %s AND id = ANY(%s)", (user_id, scene_ids)
    ).fetchall()
    return {row["id"]: row for row in rows}


def scene_details(conn: Conn, user_id: uuid.UUID, scene_ids: list[int]) -> dict[int, Row]:
    """What a result shows of its scenes."""
    rows = conn.execute(
        """SELECT s.id, s.video_id, s.idx, s.start_s, s.end_s, s.words, s.ocr_text, s.ocr_lines, s.tags, s.caption,
                  s.keyframe_key, s.keyframes, v.title, v.filename,
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


def reasons(channels: dict[str, float]) -> set[str]:
    """The channels that made a moment: those scoring at least ``REASON_SHARE`` of the best one."""
    best = max(channels.values(), default=0.0)
    return {channel for channel, value in channels.items() if value > 0 and value >= REASON_SHARE * best}


def evidence_in(
    row: Row, hit: Fused, why: set[str], matches: Matcher, people: list[str], pieces: dict[int, int]
) -> list[Evidence]:
    """Where in the scene ``row`` each reason ``why`` is: matched words, matched lines (or the line whose vector
    matched, ``pieces``: scene id → its best on-screen line, 1-based), the named people's times, the scene for sight."""
    found: list[Evidence] = []
    why = why & set(hit.channels)  # what this scene itself matched by

    def add(start: float, end: float, channel: str, text: str = "") -> None:
        found.append(Evidence(float(start), float(max(start, end)), channel, row["id"], hit.score, text))

    if "transcript" in why and row["words"]:
        said = [w for w in row["words"] if matches(w["w"])] or row["words"]
        for w in said:
            add(w["s"], w["e"], "transcript")
    lines: list[Row] = row.get("ocr_lines") or []
    if "ocr" in why and lines:
        shown = [line for line in lines if any(matches(w) for w in line["text"].split())]
        piece = pieces.get(row["id"], 0)
        if not shown and 1 <= piece <= len(lines):
            shown = [lines[piece - 1]]
        for line in shown or lines:
            add(line["s"], line["e"], "ocr", line["text"])
    if "person" in why:
        seen: dict[str, list[list[float]]] = row.get("on_screen") or {}
        for name in people:
            for start, end in seen.get(name, []):
                add(start, end, "person")
    if "visual" in why or not found:  # a tag belongs to its scene; a scene with nothing finer is its own evidence
        add(row["start_s"], row["end_s"], "visual")
    return found


def localise(evidence: list[Evidence], floor_s: float, ceiling_s: float) -> tuple[float, float]:
    """The moment the evidence makes: its best stretch of evidence (pieces under ``JOIN_GAP_S`` apart), at most
    ``MAX_MOMENT_S`` long unless it is all speech, at least ``MIN_MOMENT_S`` (inside ``floor_s``..``ceiling_s``)."""
    ordered = sorted(evidence, key=lambda e: (e.start_s, e.end_s))
    stretches: list[list[Evidence]] = [[ordered[0]]]
    for piece in ordered[1:]:
        if piece.start_s - max(e.end_s for e in stretches[-1]) <= JOIN_GAP_S:
            stretches[-1].append(piece)
        else:
            stretches.append([piece])
    best = max(stretches, key=lambda s: (max(e.strength for e in s), len(s), -s[0].start_s))
    start, end = best[0].start_s, max(e.end_s for e in best)
    if end - start > MAX_MOMENT_S and any(e.channel != "transcript" for e in best):
        end = start + MAX_MOMENT_S
    if end - start < MIN_MOMENT_S:
        end = min(ceiling_s, start + MIN_MOMENT_S)
    return max(floor_s, start), max(end, start)


def describe(
    run: Run,
    details: dict[int, Row],
    query: ParsedQuery,
    people: list[str],
    tier: str = "possible",
    pieces: dict[int, int] | None = None,
) -> Moment:
    """The moment a run is: localised to its evidence, with the evidence that made it marked."""
    rows = [details[span["id"]] for span in run.scenes]
    hit_of = {hit.scene_id: hit for hit in run.hits}
    channels: dict[str, float] = {}
    for hit in run.hits:
        for channel, value in hit.channels.items():
            channels[channel] = max(channels.get(channel, 0.0), value)
    why = reasons(channels)
    matches = Matcher(query.terms)
    asked = people if "person" in why else []
    evidence = [e for row in rows for e in evidence_in(row, hit_of[row["id"]], why, matches, asked, pieces or {})]
    start, end = localise(evidence, rows[0]["start_s"], rows[-1]["end_s"])
    inside = [row for row in rows if row["start_s"] < end and row["end_s"] > start] or rows[:1]
    best = max(inside, key=lambda row: hit_of[row["id"]].score)
    words = [w for row in inside for w in row["words"] if w["e"] > start - JOIN_GAP_S]
    lines = list(dict.fromkeys(e.text for e in evidence if e.text and e.end_s >= start and e.start_s <= end))
    if not lines and not any(row.get("ocr_lines") for row in inside):  # scenes indexed before lines had times
        lines = [row["ocr_text"] for row in inside if row["ocr_text"]]
    on_screen: dict[str, list[list[float]]] = {}
    for row in rows:
        seen: dict[str, list[list[float]]] = row.get("on_screen") or {}
        for name, spans in seen.items():
            on_screen.setdefault(name, []).extend(sorted(spans))
    phrases = [re.compile(rf"\b{re.escape(phrase)}\b") for unit in query.appearance for phrase, _ in unit]
    tags: dict[str, dict[str, Any]] = {}
    for row in inside if "visual" in why else []:
        for tag in row["tags"]:
            if any(matches(w) for w in tag["tag"].split()) or any(p.search(tag["tag"]) for p in phrases):
                if tag["tag"] not in tags or tag["confidence"] > tags[tag["tag"]]["confidence"]:
                    tags[tag["tag"]] = tag
    picture_row, picture_key = _picture(inside, start, best)
    return Moment(
        video_id=run.video_id,
        title=best["title"],
        filename=best["filename"],
        start_s=start,
        end_s=end,
        scene_start_s=inside[0]["start_s"],
        score=run.score,
        channels=channels,
        thumbnail=picture_key,
        thumbnail_scene=picture_row["id"],
        play_s=max(0.0, start - LEAD_IN_S),
        tier=tier,
        transcript_snippet=_snippet([str(w["w"]) for w in words], matches) if "transcript" in why else "",
        ocr_snippet=_snippet(" · ".join(lines).split(), matches) if "ocr" in why else "",
        tags=sorted(tags),
        tag_evidence=sorted(tags.values(), key=lambda t: -t["confidence"]),
        caption=_marked(best["caption"].split(), matches) if "visual" in why else "",
        people=people if "person" in why else [],
        scene_ids=[row["id"] for row in inside],
        on_screen=on_screen,
    )


def _picture(rows: list[Row], at: float, best: Row) -> tuple[Row, str | None]:
    """The keyframe nearest after the evidence begins (the best scene's first keyframe when none is known)."""
    frames: list[tuple[Row, Row]] = []
    for row in rows:
        keyframes: list[Row] = row.get("keyframes") or []
        frames += [(row, keyframe) for keyframe in keyframes]
    if not frames:
        return best, best["keyframe_key"]
    row, frame = min(frames, key=lambda pair: (pair[1]["t"] < at - 0.5, abs(pair[1]["t"] - at)))
    return row, frame["key"]


def build_moments(
    hits: list[Fused],
    details: dict[int, Row],
    query: ParsedQuery,
    people: list[str],
    tier: Callable[[float], str] = lambda score: "possible",
    pieces: dict[int, int] | None = None,
) -> list[Moment]:
    """Every moment of ``hits``, described (``details`` must hold all their scenes)."""
    return [describe(run, details, query, people, tier(run.score), pieces) for run in group_runs(hits, details)]


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


def _marked(words: Sequence[str], matches: Matcher) -> str:
    """All of ``words``, matches marked ``**like this**``."""
    return " ".join(f"**{w}**" if matches(w) else w for w in words)


def _snippet(words: Sequence[str], matches: Matcher, length: int = SNIPPET_WORDS) -> str:
    """Up to ``length`` words around the first match, matches marked ``**like this**``."""
    if not words:
        return ""
    hits = [i for i, word in enumerate(words) if matches(word)]
    start = max(0, (hits[0] if hits else 0) - length // 3)
    shown = [f"**{w}**" if i in hits else w for i, w in enumerate(words[start : start + length], start)]
    return ("… " if start else "") + " ".join(shown) + (" …" if start + length < len(words) else "")
