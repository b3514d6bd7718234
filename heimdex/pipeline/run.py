"""One indexing run: the stages in order, each timed and reported, the result committed all at once.

    audio → transcribe          (a thread of its own: speech runs beside the frame work)
    frames (decode once: shots, keyframe candidates and, only for what browsers cannot play, the proxy's
    pictures) → proxy (its sound, and it is stored)
    → scenes → keyframes → ocr            (a thread of its own: text on screen beside sight and faces)
                         → visual → faces
    → embed (→ the caller commits)

The run knows nothing of jobs: it tells an :class:`~heimdex.pipeline.progress.Events`
how far it is and asks it whether to stop, and returns the index (its blobs, the
sidecar among them, stored under the run's own prefix). A failure in any stage removes
what the run stored and raises :class:`StageFailed` with that stage and a readable
reason (the cause logged with an id the reason gives); a stop raises
:class:`~heimdex.pipeline.progress.Cancelled`. A proxy, once made, is kept: it depends
on the upload alone.
"""

from __future__ import annotations

import io
import itertools
import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from heimdex.config import Settings, get_settings
from heimdex.db import Database
from heimdex.errors import BadInput, HeimdexError, Kind
from heimdex.library.media import TRUNCATION_TOLERANCE_S, media_error, plays_in_browsers
from heimdex.library.transcode import Proxy
from heimdex.library.videos import SourceMissing, Video, set_proxy
from heimdex.models.registry import Registry, get_registry
from heimdex.models.types import Segment
from heimdex.perception.caption import caption
from heimdex.perception.tags import merge
from heimdex.pipeline.align import align_words
from heimdex.pipeline.audio import decode_audio
from heimdex.pipeline.commit import write_sidecar
from heimdex.pipeline.embed import embed_scenes
from heimdex.pipeline.faces import actions_seen, faces_in_scene, people_tagged
from heimdex.pipeline.frames import FrameScan, scan_frames
from heimdex.pipeline.index import Keyframe, Scene, Shot, Span, Vectors, VideoIndex
from heimdex.pipeline.keyframes import Candidate, choose_keyframes, thumbnail, unlikeness
from heimdex.pipeline.ocr import TextMemory, read_scene_text
from heimdex.pipeline.progress import Cancelled, Events, Progress, Quiet
from heimdex.pipeline.scenes import build_scenes
from heimdex.pipeline.transcribe import transcribe
from heimdex.pipeline.visual import clip_scenes, tag_scene
from heimdex.storage import BlobStore, local_copy, proxy_key, run_prefix, video_prefix

log = logging.getLogger(__name__)

STAGES = ("audio", "transcribe", "frames", "proxy", "scenes", "keyframes", "ocr", "visual", "faces", "embed", "commit")
DOING = {
    "reading": "reading the uploaded file",
    "audio": "decoding the audio",
    "transcribe": "transcribing the speech",
    "frames": "decoding the video",
    "proxy": "making a copy browsers can play",
    "scenes": "building scenes",
    "keyframes": "saving keyframes",
    "ocr": "reading on-screen text",
    "visual": "tagging what is seen",
    "faces": "finding faces",
    "embed": "embedding the text",
    "commit": "saving the index",
}


def _reason(exc: BaseException) -> tuple[str, str]:
    """A code and a sentence for an unexpected failure: never a path, an errno or a traceback."""
    import errno

    import av
    import av.error

    if isinstance(exc, av.error.FFmpegError):
        return "unreadable", "the file is damaged or uses a format Heimdex cannot read"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "index_failed", "the server's disk is full; try again later"
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "index_failed", "the server could not store the index; try again later"
    if isinstance(exc, MemoryError):
        return "index_failed", "the server ran out of memory; try again later"
    return "index_failed", "something went wrong on our side; try again"


class StageFailed(HeimdexError):
    """A run failed in ``stage``; ``code`` and ``message`` are what the video should say."""

    def __init__(self, stage: str, code: str, message: str):
        super().__init__(message)
        self.stage = stage
        self.code = code
        self.message = message
        self.kind = Kind.FAILED if code == "index_failed" else Kind.INVALID


def failure(stage: str, exc: BaseException) -> StageFailed:
    """What a video says of ``exc`` raised in ``stage``: the user's own error as it is, anything else as a
    sentence with an error id (the cause logged under that id)."""
    if isinstance(exc, StageFailed):
        return exc
    if isinstance(exc, BadInput):
        log.error("indexing failed in %s: %s", stage, exc.message)
        return StageFailed(stage, exc.code, exc.message)
    code, reason = _reason(exc)
    error_id = uuid.uuid4().hex[:8]
    log.error("indexing failed in %s (error %s)", stage, error_id, exc_info=exc)
    return StageFailed(stage, code, f"Indexing failed while {DOING[stage]}: {reason} (error {error_id}).")


@dataclass(frozen=True)
class IndexReport:
    video: Video
    index: VideoIndex
    timings_s: dict[str, float]

    def summary(self) -> dict:
        """The JSON the CLI prints."""
        return {
            "video_id": str(self.video.id),
            "state": self.video.state,
            "duration_s": self.video.duration_s,
            "scenes": [scene.summary() for scene in self.index.scenes],
            "timings_s": self.timings_s,
        }


class _Cancelled(Exception):
    """Work beside this stopped early: the picture work (frames, proxy) failed, or the other keyframe lane."""


def _halt_if(stop: threading.Event) -> None:
    if stop.is_set():
        raise _Cancelled()


def index_video(
    db: Database,
    store: BlobStore,
    video: Video,
    events: Events | None = None,
    *,
    registry: Registry | None = None,
    settings: Settings | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> IndexReport:
    """Index one stored video up to its committable index; raise :class:`StageFailed` or
    :class:`~heimdex.pipeline.progress.Cancelled` (nothing of the run is kept then).

    ``on_stage`` is called as each stage begins (tests inject failures there).
    """
    settings = settings or get_settings()
    return _Run(db, store, settings, registry or get_registry(), video, events or Quiet(), on_stage).execute()


class _Run:
    def __init__(
        self,
        db: Database,
        store: BlobStore,
        settings: Settings,
        registry: Registry,
        video: Video,
        events: Events,
        on_stage: Callable[[str], None] | None,
    ):
        self.db, self.store, self.settings, self.registry = db, store, settings, registry
        self.video, self.events, self.on_stage = video, events, on_stage
        self.run = uuid.uuid4().hex[:12]
        self.prefix = run_prefix(video.user_id, video.id, self.run)
        self.with_faces = settings.feature_faces and registry.has("faces")
        self.needs_proxy = not video.proxy_key and not plays_in_browsers(
            video.container, video.video_codec, video.audio_codec
        )
        stages = [
            s
            for s in STAGES[:-1]
            if (video.has_audio or s not in ("audio", "transcribe"))
            and (self.with_faces or s != "faces")
            and (self.needs_proxy or s != "proxy")
        ]
        self.progress = Progress(video.duration_s, stages, events)
        self.timings: dict[str, float] = {}
        self.failed_stage: str | None = None
        self._cancel = threading.Event()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a stage, report it, and remember it as the culprit if it raises."""
        self.progress.start(name)
        started = time.perf_counter()
        try:
            if self.on_stage:
                self.on_stage(name)
            yield
        except BaseException:
            self.failed_stage = self.failed_stage or name
            raise
        self.timings[name] = round(time.perf_counter() - started, 3)
        self.progress.finish(name)
        log.info("video %s: %s took %.2f s", self.video.id, name, self.timings[name])

    def execute(self) -> IndexReport:
        started = time.perf_counter()
        self._sweep_abandoned_runs()
        try:
            index = self._index()
            self.progress.check()
            write_sidecar(self.store, self.video.user_id, index)
        except BaseException as exc:
            self.store.delete_prefix(self.prefix)
            if isinstance(exc, Cancelled) or self.events.stop_requested():
                raise exc if isinstance(exc, Cancelled) else Cancelled("The job was cancelled.") from exc
            failed = failure(self.failed_stage or "commit", exc)
            if failed is exc:  # already the video's own words (a StageFailed): its cause stays what it was
                raise
            raise failed from exc
        self.timings["total"] = round(time.perf_counter() - started, 3)
        return IndexReport(self.video, index, self.timings)

    def _index(self) -> VideoIndex:
        if not self.store.exists(self.video.blob_key):  # deleted under the app: no retry can bring it back
            raise StageFailed("reading", "source_missing", SourceMissing().message)
        self.settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        with (
            local_copy(self.store, self.video.blob_key, self.settings.tmp_dir) as path,
            self._copy_file() as copy,
            ThreadPoolExecutor(1, thread_name_prefix="speech") as pool,
        ):
            speech = pool.submit(self._speech, path) if self.video.has_audio else None
            try:
                proxy = Proxy(path, copy, self.video.rotation) if copy else None
                try:
                    with self.stage("frames"):
                        scan = scan_frames(
                            path,
                            self.video.rotation,
                            lambda f: self.progress.advance("frames", f),
                            limit_s=self.video.duration_s,
                            on_frame=proxy.add if proxy else None,
                        )
                except BaseException:
                    if proxy:
                        proxy.abandon()
                    raise
                if proxy and copy:
                    with self.stage("proxy"):
                        self._keep_proxy(proxy, copy)
            except BaseException:
                self._cancel.set()
                raise
            language, segments = speech.result() if speech else (None, [])
        words = [word for segment in segments for word in segment.words]
        shots, end_s = self._to_the_end(scan)
        with self.stage("scenes"):
            spans = build_scenes(shots, words, unlikeness(scan.candidates))
            scenes = [
                Scene(i, span.start_s, span.end_s, words=w)
                for i, (span, w) in enumerate(zip(spans, align_words(spans, words)))
            ]
        with self.stage("keyframes"):
            cuts = [shot.start_s for shot in shots[1:]]
            chosen = [choose_keyframes(span, scan.candidates, cuts) for span in spans]
            for scene, keyframes in zip(scenes, chosen):
                keep = self._keeper(f"kf/{scene.idx:04d}-")
                scene.keyframes = [Keyframe(k.t, keep(thumbnail(k))) for k in keyframes]
        visual = self._look(scenes, spans, chosen, scan)
        with self.stage("embed"):
            vectors = embed_scenes(scenes, self.registry.get("text")) + ([visual] if visual else [])
        return VideoIndex(
            video_id=str(self.video.id),
            run=self.run,
            duration_s=round(end_s, 3),
            language=language,
            models=self._models(),
            shots=shots,
            segments=segments,
            scenes=scenes,
            vectors=vectors,
        )

    @contextmanager
    def _copy_file(self) -> Iterator[Path | None]:
        """A temporary file for the playable copy, when this run makes one (removed after the run)."""
        if not self.needs_proxy:
            yield None
            return
        with tempfile.NamedTemporaryFile(dir=self.settings.tmp_dir, prefix="proxy-", suffix=".mp4") as copy:
            yield Path(copy.name)

    def _look(
        self, scenes: list[Scene], spans: list[Span], chosen: list[list[Candidate]], scan: FrameScan
    ) -> Vectors | None:
        """The keyframe models in two lanes at once: on-screen text in a thread of its own, and here what is seen,
        then faces (which start from its tags). Each lane writes its own fields of the scenes; a failure in one
        stops the other at its next scene, and is the one raised."""
        inside = [[c for c in scan.candidates if span.start_s <= c.t < span.end_s] for span in spans]
        stop = threading.Event()

        def read_text() -> None:
            try:
                self._read_text(scenes, chosen, inside, stop)
            except BaseException:
                stop.set()
                raise

        with ThreadPoolExecutor(1, thread_name_prefix="text") as pool:
            reading = pool.submit(read_text)
            try:
                visual = self._see(scenes, spans, chosen, inside, stop)
            except _Cancelled:
                reading.result()  # raises the text lane's failure that stopped this one
                raise
            except BaseException:
                stop.set()
                wait([reading])
                raise
            reading.result()
        return visual

    def _read_text(
        self, scenes: list[Scene], chosen: list[list[Candidate]], inside: list[list[Candidate]], stop: threading.Event
    ) -> None:
        with self.stage("ocr"):
            reader, memory = self.registry.get("ocr"), TextMemory()
            for scene, keyframes, frames in zip(scenes, chosen, inside):
                _halt_if(stop)
                scene.ocr = read_scene_text(keyframes, reader, frames, memory)
                self.progress.advance("ocr", (scene.idx + 1) / len(scenes))
            log.info(
                "video %s: text read on %d keyframes, taken over on %d", self.video.id, memory.read, memory.carried
            )

    def _see(
        self,
        scenes: list[Scene],
        spans: list[Span],
        chosen: list[list[Candidate]],
        inside: list[list[Candidate]],
        stop: threading.Event,
    ) -> Vectors | None:
        with self.stage("visual"):
            visual, clip_tags = clip_scenes(chosen, self.registry)
            for scene, keyframes, frames, extra in zip(scenes, chosen, inside, clip_tags):
                _halt_if(stop)
                scene.tags = merge(tag_scene(keyframes, self.registry, frames) + extra)
                scene.caption = caption(scene.tags)
                self.progress.advance("visual", (scene.idx + 1) / len(scenes))
        if not self.with_faces:
            return visual
        with self.stage("faces"):
            analyzer = self.registry.get("faces")
            body = self.registry.get("body") if self.registry.has("body") else None
            expression = self.registry.get("expression") if self.registry.has("expression") else None
            for scene, span, keyframes, frames in zip(scenes, spans, chosen, inside):
                _halt_if(stop)
                seen = faces_in_scene(
                    span,
                    frames,
                    keyframes,
                    analyzer,
                    self._keeper(f"faces/{scene.idx:04d}-"),
                    body,
                    expression,
                    people_tagged(scene.tags),
                )
                scene.faces, scene.tracks = seen.faces, seen.tracks
                scene.tags = merge(scene.tags + actions_seen(seen.tracks))
                scene.caption = caption(scene.tags)
                self.progress.advance("faces", (scene.idx + 1) / len(scenes))
        return visual

    def _to_the_end(self, scan: FrameScan) -> tuple[list[Shot], float]:
        """The shots and the video's end: where the sound runs on past the picture (accepted at upload only when
        the sound reaches the file's stated end), the last shot holds its picture to the sound's end."""
        if not (self.video.has_audio and self.video.duration_s > scan.end_s + TRUNCATION_TOLERANCE_S):
            return scan.shots, scan.end_s
        return [*scan.shots[:-1], replace(scan.shots[-1], end_s=self.video.duration_s)], self.video.duration_s

    def _keep_proxy(self, proxy: Proxy, written: Path) -> None:
        """Finish the browser-playable copy the frames stage wrote; the video row points at it once it is stored."""
        if proxy.close() == 0:
            raise media_error("unreadable", detail="no picture could be decoded")
        key = proxy_key(self.video.user_id, self.video.id)
        with written.open("rb") as made:
            self.store.put(key, made)
        set_proxy(self.db, self.video.id, key)

    def _speech(self, path: Path) -> tuple[str | None, list[Segment]]:
        with self.stage("audio"):
            audio = decode_audio(path)
        with self.stage("transcribe"):
            return transcribe(audio, self.registry.get("asr"), self.video.language, self._speech_progress)

    def _speech_progress(self, fraction: float) -> None:
        if self._cancel.is_set():
            raise _Cancelled()
        self.progress.advance("transcribe", fraction)

    def _keeper(self, stem: str) -> Callable[[bytes], str]:
        """Stores JPEGs of this run as ``<stem>0.jpg``, ``<stem>1.jpg``, ...; returns each key."""
        count = itertools.count()

        def keep(jpeg: bytes) -> str:
            key = f"{self.prefix}{stem}{next(count)}.jpg"
            self.store.put(key, io.BytesIO(jpeg))
            return key

        return keep

    def _models(self) -> dict[str, dict]:
        used = [role for role in self.registry.specs if role != "asr" or self.video.has_audio]
        return {
            role: {"name": self.registry.info(role).name, "version": self.registry.info(role).version} for role in used
        }

    def _sweep_abandoned_runs(self) -> None:
        """Remove blobs of earlier runs that never committed (a crashed process leaves them)."""
        runs = video_prefix(self.video.user_id, self.video.id) + "r/"
        found = {key[len(runs) :].split("/", 1)[0] for key in self.store.keys(runs)}
        for run in found - {self.video.index_run}:
            self.store.delete_prefix(f"{runs}{run}/")
