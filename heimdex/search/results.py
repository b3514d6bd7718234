"""Results: fused scenes become moments (adjacent scenes of one moment merged), with their explanation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from heimdex.db import Conn
from heimdex.db.statement import Statement
from heimdex.models.types import speech_pieces
from heimdex.search.fusion import Fused, reasons_sql
from heimdex.search.query import HANGUL, ParsedQuery, strip_particle

SNIPPET_WORDS = 24
STOPWORDS = frozenset("a an and are as at be by for from in is it of on or the this to was were with what".split())


Row = dict[str, Any]  # a row as the database gives it
Pieces = dict[str, dict[int, int]]  # channel → scene id → the piece of its text nearest the query


LEAD_IN_S = 1.0  # the Player starts this long before the evidence
MAX_MOMENT_S = 20.0  # a moment lasts at most this long, unless its evidence is one longer spoken passage
MIN_MOMENT_S = 3.0  # ... and at least this long (a single word is a moment of a few seconds)
JOIN_GAP_S = 2.5  # pieces of evidence closer than this are one moment (across scenes too)
REASON_SHARE = 0.5  # a channel is a reason when its score is at least this share of the best channel's ...
REASON_MIN = 0.2  # ... and at least this probability by itself


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
    text: str = ""  # what it is: the word said (bare), the line on screen, the person's name


DETAILS = """s.id, s.video_id, s.idx, s.start_s, s.end_s, s.words, s.ocr_text, s.ocr_lines, s.tags, s.caption,
    s.keyframe_key, s.keyframes, v.title, v.filename,
    (SELECT jsonb_object_agg(p.name, sp.seen) FROM scene_people sp JOIN people p ON p.id = sp.person_id
     WHERE sp.scene_id = s.id AND p.user_id = s.user_id AND p.name IS NOT NULL) AS on_screen"""  # what a result shows


def scene_details(conn: Conn, user_id: uuid.UUID, scene_ids: list[int]) -> dict[int, Row]:
    """What a result shows of its scenes."""
    rows = conn.execute(
        f"SELECT {DETAILS} FROM scenes s JOIN videos v ON v.id = s.video_id WHERE s.user_id = %s AND s.id = ANY(%s)",
        (user_id, scene_ids),
    ).fetchall()
    return {row["id"]: row for row in rows}


def page_sql(st: Statement, hits: sql.Composable, offset: int, limit: int) -> sql.Composed:
    """The hits (``scene_id, score``, as :func:`~heimdex.search.fusion.fusion_sql` gives) grouped into runs of adjacent scenes per video, as
    :func:`group_runs` does, ranked the same way; the rows of runs ``offset + 1`` to ``offset + limit``, each scene's
    details with its run's rank, and the number of runs in all (``total``; one row of it when the page is empty)."""
    placed = st.part(
        "placed",
        sql.SQL(
            """SELECT h.*, s.video_id, s.idx, s.start_s,
                      s.idx - row_number() OVER (PARTITION BY s.video_id ORDER BY s.idx) AS island
               FROM {hits} h CROSS JOIN LATERAL (  -- each hit's scene by its key: never the user's scenes, all read
                   SELECT video_id, idx, start_s FROM scenes s WHERE s.id = h.scene_id AND s.user_id = %(user)s LIMIT 1) s"""
        ).format(hits=hits),
    )
    ranked = st.part(  # each scene with its run's rank: runs ordered by their best score, then video and start
        "ranked",
        sql.SQL(
            """SELECT scene_id, score, dense_rank() OVER (ORDER BY best DESC, video_id, first) AS rank FROM (
                   SELECT scene_id, score, video_id, max(score) OVER run AS best, min(start_s) OVER run AS first
                   FROM {placed} WINDOW run AS (PARTITION BY video_id, island)) AS in_runs"""
        ).format(placed=placed),
    )
    return sql.SQL(
        """SELECT (SELECT coalesce(max(rank), 0) FROM {ranked}) AS total, shown.* FROM (SELECT 1) AS one LEFT JOIN (
               SELECT h.rank, h.score, why.signals, why.probabilities, {details}
               FROM {ranked} h JOIN scenes s ON s.id = h.scene_id JOIN videos v ON v.id = s.video_id
                    CROSS JOIN LATERAL ({why}) AS why
               WHERE h.rank > {offset} AND h.rank <= {end}) AS shown ON true
           ORDER BY shown.rank, shown.idx"""
    ).format(
        ranked=ranked,
        details=sql.SQL(DETAILS),
        why=reasons_sql(sql.SQL("h.scene_id")),
        offset=sql.Literal(int(offset)),
        end=sql.Literal(int(offset + limit)),
    )


def runs_of(rows: list[Row]) -> tuple[list[Run], dict[int, Row]]:
    """The runs of :func:`page_sql`'s rows, in their order, and the details of their scenes."""
    runs: dict[int, Run] = {}
    details: dict[int, Row] = {}
    for row in rows:
        if row["rank"] is None:
            continue
        run = runs.setdefault(row["rank"], Run(row["video_id"], [], []))
        run.scenes.append(row)
        run.hits.append(Fused(row["id"], float(row["score"]), row["signals"], row["probabilities"]))
        details[row["id"]] = row
    return list(runs.values()), details


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
    """The channels that made a moment: the best one, and those at least ``REASON_SHARE`` as strong and
    ``REASON_MIN`` likely by themselves (a screen-text match of 10% beside a picture of 60% is no reason)."""
    best = max(channels.values(), default=0.0)
    return {
        channel
        for channel, value in channels.items()
        if value > 0 and (value == best or (value >= REASON_SHARE * best and value >= REASON_MIN))
    }


def evidence_in(
    row: Row, hit: Fused, why: set[str], matches: Matcher, people: list[str], pieces: Pieces
) -> list[Evidence]:
    """Where in the scene ``row`` each reason ``why`` is: the matched words (or the piece of speech whose vector
    matched), the matched lines (or the line whose vector matched), the named people's times, the scene for sight.

    ``pieces``: channel → scene id → the piece of its text nearest the query (0 the whole, k the k-th)."""
    found: list[Evidence] = []
    why = why & set(hit.channels)  # what this scene itself matched by

    def add(start: float, end: float, channel: str, text: str = "") -> None:
        found.append(Evidence(float(start), float(max(start, end)), channel, text))

    words: list[Row] = row["words"]
    if "transcript" in why and words:
        said = [w for w in words if matches(w["w"])]
        if not said:  # a match in meaning: the piece of speech it came from
            cut = speech_pieces([str(w["w"]) for w in words])
            piece = pieces.get("transcript", {}).get(row["id"], 0)
            said = [words[i] for i in cut[piece - 1]] if len(cut) > 1 and 1 <= piece <= len(cut) else words
        for w in said:
            add(w["s"], w["e"], "transcript", Matcher.bare(str(w["w"])))
    lines: list[Row] = row.get("ocr_lines") or []
    if "ocr" in why and lines:
        shown = [line for line in lines if any(matches(w) for w in line["text"].split())]
        piece = pieces.get("ocr", {}).get(row["id"], 0)
        if not shown and 1 <= piece <= len(lines):
            shown = [lines[piece - 1]]
        for line in shown or lines:
            add(line["s"], line["e"], "ocr", line["text"])
    if "person" in why:
        seen: dict[str, list[list[float]]] = row.get("on_screen") or {}
        for name in people:
            for start, end in seen.get(name, []):
                add(start, end, "person", name)
    if not found:  # a tag belongs to its whole scene: it places a moment only where nothing finer does
        add(row["start_s"], row["end_s"], "visual")
    return found


def localise(evidence: list[Evidence]) -> list[Evidence]:
    """The best stretch of a scene's evidence: pieces under ``JOIN_GAP_S`` apart; the best holds the most different
    things (words, lines, people), then the most pieces, then comes first."""
    ordered = sorted(evidence, key=lambda e: (e.start_s, e.end_s))
    stretches: list[list[Evidence]] = [[ordered[0]]]
    for piece in ordered[1:]:
        if piece.start_s - max(e.end_s for e in stretches[-1]) <= JOIN_GAP_S:
            stretches[-1].append(piece)
        else:
            stretches.append([piece])
    return max(stretches, key=lambda s: (len({(e.channel, e.text) for e in s}), len(s), -s[0].start_s))


@dataclass
class Stretch:
    """Evidence of one or more neighbouring scenes that continues: one moment before it is described."""

    rows: list[Row]
    evidence: list[Evidence]
    score: float

    @property
    def start_s(self) -> float:
        return min(e.start_s for e in self.evidence)

    @property
    def end_s(self) -> float:
        """Where the evidence ends: at most ``MAX_MOMENT_S`` after it begins unless it is all speech (a long passage),
        at least ``MIN_MOMENT_S`` (within the last scene)."""
        start, end = self.start_s, max(e.end_s for e in self.evidence)
        if end - start > MAX_MOMENT_S and any(e.channel != "transcript" for e in self.evidence):
            end = start + MAX_MOMENT_S
        return max(end, min(self.rows[-1]["end_s"], start + MIN_MOMENT_S))


def stretches_of(
    run: Run, details: dict[int, Row], matches: Matcher, people: list[str], pieces: Pieces
) -> list[Stretch]:
    """Each scene's evidence localised to its best stretch; a neighbour's joins where the evidence continues."""
    found: list[Stretch] = []
    for span, hit in sorted(zip(run.scenes, run.hits), key=lambda pair: pair[0]["idx"]):
        row = details[span["id"]]
        why = reasons(hit.channels)
        evidence = localise(evidence_in(row, hit, why, matches, people if "person" in why else [], pieces))
        if found and evidence[0].start_s - found[-1].end_s <= JOIN_GAP_S:
            found[-1] = Stretch([*found[-1].rows, row], found[-1].evidence + evidence, max(found[-1].score, hit.score))
        else:
            found.append(Stretch([row], evidence, hit.score))
    return found


def moments_of(
    run: Run,
    details: dict[int, Row],
    query: ParsedQuery,
    people: list[str],
    tier: Callable[[float], str] = lambda score: "possible",
    pieces: Pieces | None = None,
) -> list[Moment]:
    """The moments of a run of matching scenes: where their evidence is, each with the evidence that made it."""
    matches = Matcher(query.terms)
    hit_of = {hit.scene_id: hit for hit in run.hits}
    moments: list[Moment] = []
    for stretch in stretches_of(run, details, matches, people, pieces or {}):
        start, end, rows = stretch.start_s, stretch.end_s, stretch.rows
        channels: dict[str, float] = {}
        for row in rows:
            for channel, value in hit_of[row["id"]].channels.items():
                channels[channel] = max(channels.get(channel, 0.0), value)
        why = reasons(channels)
        best = max(rows, key=lambda row: hit_of[row["id"]].score)
        words = [w for row in rows for w in row["words"] if w["e"] > start - JOIN_GAP_S]
        lines = list(dict.fromkeys(e.text for e in stretch.evidence if e.channel == "ocr"))
        if not lines and not any(row.get("ocr_lines") for row in rows):  # scenes indexed before lines had times
            lines = [row["ocr_text"] for row in rows if row["ocr_text"]]
        on_screen: dict[str, list[list[float]]] = {}
        for row in rows:
            seen: dict[str, list[list[float]]] = row.get("on_screen") or {}
            for name, spans in seen.items():
                on_screen.setdefault(name, []).extend(sorted(spans))
        phrases = [re.compile(rf"\b{re.escape(phrase)}\b") for unit in query.appearance for phrase, _ in unit]
        phrases += [re.compile(rf"\b{re.escape(thing)}(?:e?s)?\b") for thing in query.sight]  # "물병": "bottles"
        tags: dict[str, dict[str, Any]] = {}
        for row in rows if "visual" in why else []:
            for tag in row["tags"]:
                if any(matches(w) for w in tag["tag"].split()) or any(p.search(tag["tag"]) for p in phrases):
                    if tag["tag"] not in tags or tag["confidence"] > tags[tag["tag"]]["confidence"]:
                        tags[tag["tag"]] = tag
        picture_row, picture_key = _picture(rows, start, best)
        moments.append(
            Moment(
                video_id=run.video_id,
                title=best["title"],
                filename=best["filename"],
                start_s=start,
                end_s=end,
                scene_start_s=rows[0]["start_s"],
                score=stretch.score,
                channels=channels,
                thumbnail=picture_key,
                thumbnail_scene=picture_row["id"],
                play_s=max(0.0, start - LEAD_IN_S),
                tier=tier(stretch.score),
                transcript_snippet=_snippet([str(w["w"]) for w in words], matches) if "transcript" in why else "",
                ocr_snippet=_snippet(" · ".join(lines).split(), matches) if "ocr" in why else "",
                tags=sorted(tags),
                tag_evidence=sorted(tags.values(), key=lambda t: -t["confidence"]),
                caption=_marked(best["caption"].split(), matches) if "visual" in why else "",
                people=people if "person" in why else [],
                scene_ids=[row["id"] for row in rows],
                on_screen=on_screen,
            )
        )
    return moments


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
    pieces: Pieces | None = None,
) -> list[Moment]:
    """Every moment of ``hits``, best first (``details`` must hold all their scenes)."""
    moments = [m for run in group_runs(hits, details) for m in moments_of(run, details, query, people, tier, pieces)]
    return sorted(moments, key=lambda m: (-m.score, str(m.video_id), m.start_s))


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
        bare = self.bare(word)
        return bool(bare) and (bare in self.exact or bare.startswith(self.prefixes))

    @classmethod
    def bare(cls, word: str) -> str:
        """A word as matched: lower case, no punctuation around or in it."""
        return cls._NOT_WORD.sub("", word.casefold())


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
