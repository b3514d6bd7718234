"""The index of one video as a document: what the stages produce, what commit writes, the sidecar.

The sidecar is this document as JSON (``index.json`` in the run's blob prefix). It
holds everything the database holds for the video, vectors included, so an index
can be exported, inspected or restored without running a model again.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from heimdex.models.types import Segment, Tag, Word

FORMAT = "heimdex-index/1"


@dataclass(frozen=True)
class Shot:
    start_s: float
    end_s: float
    cut: str  # how the shot began: start, cut (hard cut) or fade


@dataclass(frozen=True)
class Span:
    """A stretch of the video: a scene before anything is known about it."""

    start_s: float
    end_s: float

    @property
    def length_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class OcrLine:
    text: str
    confidence: float
    box: tuple[int, int, int, int]  # left, top, right, bottom on the keyframe
    t: float  # time of the keyframe it was read from
    source: str  # rapidocr or tesseract
    first_s: float | None = None  # the first and last second the line is on screen (None: not dated)
    last_s: float | None = None


@dataclass(frozen=True)
class FaceSeen:
    t: float  # time of the keyframe
    box: tuple[int, int, int, int]  # left, top, right, bottom on the keyframe
    descriptor: list[float]  # 128-d, Euclidean distance < ~0.5 means the same person
    quality: float
    crop: str | None = None  # blob key of the face's picture
    track: int = 0  # which of the scene's tracks (one person followed through the scene) it belongs to
    drawn: float | None = None  # how drawn it looks (heimdex.perception.faces.drawn_score); None: not measured


@dataclass(frozen=True)
class Track:
    """One face followed through a scene: when it was on screen and what the person did."""

    idx: int
    start_s: float
    end_s: float
    actions: list[Tag] = field(default_factory=list[Tag])


@dataclass(frozen=True)
class Keyframe:
    t: float
    key: str  # blob key of its JPEG thumbnail


@dataclass
class Scene:
    idx: int
    start_s: float
    end_s: float
    words: list[Word] = field(default_factory=list)
    ocr: list[OcrLine] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list[Tag])
    keyframes: list[Keyframe] = field(default_factory=list)  # the first is the thumbnail
    caption: str = ""  # a sentence or two composed from the tags
    faces: list[FaceSeen] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)

    @property
    def transcript(self) -> str:
        return " ".join(word.text for word in self.words)

    @property
    def ocr_text(self) -> str:
        return "\n".join(line.text for line in self.ocr)

    @property
    def tag_text(self) -> str:
        return ", ".join(tag.tag for tag in self.tags)

    @property
    def thumbnail(self) -> str | None:
        return self.keyframes[0].key if self.keyframes else None

    def summary(self) -> dict:
        """The JSON-ready fields the CLI prints."""
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "transcript": self.transcript,
            "ocr_text": self.ocr_text,
            "tags": [tag.as_dict() for tag in self.tags],
            "caption": self.caption,
        }


@dataclass(frozen=True)
class Vectors:
    """One channel's embeddings: row ``i`` is piece ``chunk[i]`` of scene ``scene_idx[i]`` (0: the whole text)."""

    channel: str  # transcript, ocr, tags, visual
    model: str
    version: str
    dim: int
    scene_idx: tuple[int, ...]
    rows: np.ndarray
    chunk: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.chunk:
            object.__setattr__(self, "chunk", (0,) * len(self.scene_idx))

    def as_dict(self) -> dict:
        data = np.ascontiguousarray(self.rows, dtype="<f4").tobytes()
        return {
            "channel": self.channel,
            "model": self.model,
            "version": self.version,
            "dim": self.dim,
            "scene_idx": list(self.scene_idx),
            "chunk": list(self.chunk),
            "rows": base64.b64encode(data).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Vectors:
        rows = np.frombuffer(base64.b64decode(data["rows"]), dtype="<f4").reshape(-1, data["dim"])
        return cls(
            data["channel"],
            data["model"],
            data["version"],
            data["dim"],
            tuple(data["scene_idx"]),
            rows,
            tuple(data["chunk"]),
        )


@dataclass
class VideoIndex:
    video_id: str
    run: str
    duration_s: float
    language: str | None = None
    models: dict[str, dict] = field(default_factory=dict)  # role -> {"name", "version"}
    shots: list[Shot] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    scenes: list[Scene] = field(default_factory=list)
    vectors: list[Vectors] = field(default_factory=list)

    def to_json(self) -> bytes:
        """The sidecar document."""
        document: dict[str, Any] = {
            "format": FORMAT,
            **{name: getattr(self, name) for name in ("video_id", "run", "duration_s", "language", "models")},
            "shots": [asdict(shot) for shot in self.shots],
            "segments": [{**asdict(segment), "words": _words_out(segment.words)} for segment in self.segments],
            "scenes": [
                {
                    **asdict(scene),
                    "words": _words_out(scene.words),
                    "tags": [tag.as_dict() for tag in scene.tags],
                    "tracks": [{**asdict(t), "actions": [a.as_dict() for a in t.actions]} for t in scene.tracks],
                }
                for scene in self.scenes
            ],
            "vectors": [vectors.as_dict() for vectors in self.vectors],
        }
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> VideoIndex:
        """Read a sidecar back (``ValueError`` for anything that is not one)."""
        document = json.loads(data)
        if document.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} document")
        return cls(
            video_id=document["video_id"],
            run=document["run"],
            duration_s=document["duration_s"],
            language=document["language"],
            models=document["models"],
            shots=[Shot(**shot) for shot in document["shots"]],
            segments=[
                Segment(s["start"], s["end"], s["text"], tuple(_words_in(s["words"]))) for s in document["segments"]
            ],
            scenes=[
                Scene(
                    idx=s["idx"],
                    start_s=s["start_s"],
                    end_s=s["end_s"],
                    words=_words_in(s["words"]),
                    ocr=[OcrLine(**{**line, "box": tuple(line["box"])}) for line in s["ocr"]],
                    tags=[Tag(**tag) for tag in s["tags"]],
                    keyframes=[Keyframe(**k) for k in s["keyframes"]],
                    faces=[FaceSeen(**{**f, "box": tuple(f["box"])}) for f in s.get("faces", [])],
                    caption=s.get("caption", ""),
                    tracks=[Track(**{**t, "actions": [Tag(**a) for a in t["actions"]]}) for t in s.get("tracks", [])],
                )
                for s in document["scenes"]
            ],
            vectors=[Vectors.from_dict(v) for v in document["vectors"]],
        )


def _words_out(words: list[Word] | tuple[Word, ...]) -> list[dict[str, Any]]:
    """Words as the sidecar and the scene rows keep them: ``{"w", "s", "e"}``."""
    return [{"w": word.text, "s": word.start, "e": word.end} for word in words]


def _words_in(items: list[dict[str, Any]]) -> list[Word]:
    return [Word(item["w"], item["s"], item["e"]) for item in items]
