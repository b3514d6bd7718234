"""A video's speech as subtitles: timed lines from the words ASR heard, written as WebVTT or SubRip.

Words come with their own times (:mod:`heimdex.pipeline.align` keeps them per scene). A line
ends at the end of a sentence, before a pause, or when it grows too long to read at once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from heimdex.db import Conn

MAX_LINE_S = 6.0  # seconds a line may stay on screen
MAX_LINE_WORDS = 14
PAUSE_S = 1.0  # silence between two words that starts a new line
SENTENCE_END = re.compile(r"[.!?。？！…]$")


@dataclass(frozen=True)
class Line:
    start_s: float
    end_s: float
    text: str

    def as_dict(self) -> dict[str, float | str]:
        return {"start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3), "text": self.text}


def lines(words: Iterable[tuple[str, float, float]]) -> list[Line]:
    """Timed lines of ``words`` (text, start, end), in order of time."""
    found: list[Line] = []
    current: list[tuple[str, float, float]] = []

    def close() -> None:
        if current:
            found.append(Line(current[0][1], max(w[2] for w in current), " ".join(w[0] for w in current)))
            current.clear()

    for word in sorted((w for w in words if w[0].strip()), key=lambda w: w[1]):
        text, start, end = word[0].strip(), float(word[1]), max(float(word[2]), float(word[1]))
        if current and (
            start - current[-1][2] > PAUSE_S or end - current[0][1] > MAX_LINE_S or len(current) >= MAX_LINE_WORDS
        ):
            close()
        current.append((text, start, end))
        if SENTENCE_END.search(text):
            close()
    close()
    return found


def spoken_words(conn: Conn, user_id: uuid.UUID, video_id: uuid.UUID) -> list[tuple[str, float, float]]:
    """Every word heard in one of the user's videos, with its times."""
    rows = conn.execute(
        "SELECT words FROM scenes WHERE user_id = %s AND video_id = %s ORDER BY idx", (user_id, video_id)
    ).fetchall()
    return [(str(w["w"]), float(w["s"]), float(w["e"])) for row in rows for w in row["words"]]


def webvtt(found: Sequence[Line]) -> str:
    """WebVTT: cue text escaped, so a word like ``<b>`` is shown, not read as markup."""
    cues = [f"{_time(line.start_s, '.')} --> {_time(line.end_s, '.')}\n{_cue_text(line.text)}\n" for line in found]
    return "WEBVTT\n\n" + "\n".join(cues)


def srt(found: Sequence[Line]) -> str:
    """SubRip: numbered cues, comma before the milliseconds."""
    return "\n".join(
        f"{n}\n{_time(line.start_s, ',')} --> {_time(line.end_s, ',')}\n{line.text.replace('-->', '->')}\n"
        for n, line in enumerate(found, start=1)
    )


def _cue_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _time(seconds: float, point: str) -> str:
    millis = round(max(0.0, seconds) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}{point}{millis % 1000:03d}"
