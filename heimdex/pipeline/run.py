"""One indexing run: the stages in order, each timed and reported, the result committed all at once.

    audio → transcribe          (a thread of its own: speech runs beside the frame work)
    frames (decode once: shots + keyframe candidates) → proxy (only for what browsers cannot play)
    → scenes → keyframes → ocr → visual → faces → embed → commit

A failure in any stage marks the video ``failed`` with that stage and a readable
reason (the cause logged with an id the reason gives), removes what the run stored,
and leaves the previous index (or none) as it was; running the video again starts
over cleanly. A proxy, once made, is kept: it depends on the upload alone.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
import socket
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from heimdex.config import Settings, get_settings
from heimdex.db import Database
from heimdex.errors import BadInput, HeimdexError, NotFound
from heimdex.jobs import beat, create_job, finish_job
from heimdex.jobs.rows import restore_video
from heimdex.media import plays_in_browsers
from heimdex.models.registry import Registry, get_registry
from heimdex.models.vision.tags import merge
from heimdex.pipeline.align import align_words
from heimdex.pipeline.audio import decode_audio
from heimdex.pipeline.commit import commit_index, write_sidecar
from heimdex.pipeline.embed import embed_scenes
from heimdex.pipeline.faces import faces_in_scene, people_tagged
from heimdex.pipeline.frames import scan_frames
from heimdex.pipeline.index import Keyframe, Scene, Segment, VideoIndex
from heimdex.pipeline.keyframes import choose_keyframes, thumbnail, unlikeness
from heimdex.pipeline.ocr import read_scene_text
from heimdex.pipeline.proxy import make_proxy
from heimdex.pipeline.progress import JobCancelled, Progress
from heimdex.pipeline.scenes import build_scenes
from heimdex.pipeline.transcribe import transcribe
from heimdex.pipeline.visual import clip_scenes, tag_scene
from heimdex.storage import BlobStore, local_copy, proxy_key, run_prefix, video_prefix
from heimdex.videos import Video, get_video, owner_of, set_proxy

log = logging.getLogger(__name__)

STAGES = ("audio", "transcribe", "frames", "proxy", "scenes", "keyframes", "ocr", "visual", "faces", "embed", "commit")
DOING = {
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
HEARTBEAT_S = 2.0  # how often a run reports it is alive and asks whether to stop


def _reason(exc: BaseException) -> tuple[str, str]:
    """A code and a sentence for an unexpected failure: never a path, an errno or a traceback."""
    import errno

    import av

    if isinstance(exc, av.error.FFmpegError):
        return "unreadable", "the file is damaged or uses a format Heimdex cannot read"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "index_failed", "the server's disk is full; try again later"
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "index_failed", "the server could not store the index; try again later"
    if isinstance(exc, MemoryError):
        return "index_failed", "the server ran out of memory; try again later"
    return "index_failed", "something went wrong on our side; try again"


class IndexingFailed(HeimdexError):
    """A run failed in ``stage``; ``code`` and ``message`` are what the video row now says."""

    def __init__(self, stage: str, code: str, message: str):
        super().__init__(message)
        self.stage = stage
        self.code = code
        self.message = message
        self.exit_code = 2 if code != "index_failed" else 1


@dataclass(frozen=True)
class IndexReport:
    video: Video
    index: VideoIndex
    job_id: int
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
    """The picture work (frames, proxy) failed, so the speech thread stops early."""


def index_video(
    db: Database,
    store: BlobStore,
    video_id: uuid.UUID,
    *,
    registry: Registry | None = None,
    settings: Settings | None = None,
    job_id: int | None = None,
    echo: Callable[[str, float], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> IndexReport:
    """Index one stored video end to end; raise :class:`IndexingFailed` (the video then says why).

    ``echo`` receives (stage, overall fraction) as the job row does; ``on_stage`` is
    called as each stage begins (tests inject failures there).
    """
    settings = settings or get_settings()
    video = get_video(db, owner_of(db, video_id), video_id)
    job_id = job_id if job_id is not None else create_job(db, video.id)
    _claim(db, video.id, job_id, settings.job_stale_s)
    run = _Run(db, store, settings, registry or get_registry(), video, job_id, echo, on_stage)
    return run.execute()


def _claim(db: Database, video_id: uuid.UUID, job_id: int, stale_s: float) -> None:
    """Mark the video processing and the job running, unless a live run holds the video or the job is not queued.

    The video row is locked first, so two workers claiming at once are served one after the other.
    """
    with db.transaction() as conn:
        if conn.execute("SELECT id FROM videos WHERE id = %s FOR UPDATE", (video_id,)).fetchone() is None:
            raise NotFound("video", video_id)
        busy = conn.execute(
            """SELECT 1 FROM jobs WHERE video_id = %s AND id <> %s AND state = 'running'
                  AND heartbeat_at > now() - make_interval(secs => %s)""",
            (video_id, job_id, stale_s),
        ).fetchone()
        if busy:
            raise BadInput("busy", "This video is being indexed right now; wait for that run to finish.")
        claimed = conn.execute(
            """UPDATE jobs SET state = 'running', worker = %s, attempts = attempts + 1, started_at = now(),
                   heartbeat_at = now(), finished_at = NULL, progress = 0, stage = NULL
               WHERE id = %s AND state = 'queued' AND NOT cancel_requested RETURNING id""",
            (f"{socket.gethostname()}:{os.getpid()}", job_id),
        ).fetchone()
        if claimed is None:
            raise BadInput("not_queued", f"Job {job_id} is not waiting to run (it ran, runs elsewhere, or was cancelled).")
        conn.execute(
            """UPDATE videos SET state = 'processing', error_code = NULL, error_message = NULL,
                   error_stage = NULL, updated_at = now() WHERE id = %s""",
            (video_id,),
        )


class _Run:
    def __init__(self, db, store, settings, registry, video: Video, job_id: int, echo, on_stage):
        self.db, self.store, self.settings, self.registry = db, store, settings, registry
        self.video, self.job_id, self.on_stage = video, job_id, on_stage
        self.run = uuid.uuid4().hex[:12]
        self.prefix = run_prefix(video.user_id, video.id, self.run)
        self.with_faces = settings.feature_faces and registry.has("faces")
        self.needs_proxy = not video.proxy_key and not plays_in_browsers(video.container, video.video_codec, video.audio_codec)
        stages = [s for s in STAGES if (video.has_audio or s not in ("audio", "transcribe")) and (self.with_faces or s != "faces")
                  and (self.needs_proxy or s != "proxy")]
        self.stop = threading.Event()  # set when the job is cancelled or its video deleted
        self.progress = Progress(db, job_id, video.duration_s, stages, echo, self.stop)
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
        done = threading.Event()
        heart = threading.Thread(target=self._heartbeat, args=(done,), name="heartbeat", daemon=True)
        heart.start()
        try:
            index = self._index()
            with self.stage("commit"):
                self.progress.check()
                write_sidecar(self.store, self.video.user_id, index)
                previous = commit_index(self.db, self.video.id, index)
            finish_job(self.db, self.job_id)
        except BaseException as exc:
            raise self._fail(exc) from exc
        finally:
            done.set()
            heart.join()
        if previous and previous != self.run:
            self.store.delete_prefix(run_prefix(self.video.user_id, self.video.id, previous))
        self.timings["total"] = round(time.perf_counter() - started, 3)
        video = get_video(self.db, self.video.user_id, self.video.id)
        return IndexReport(video, index, self.job_id, self.timings)

    def _index(self) -> VideoIndex:
        with local_copy(self.store, self.video.blob_key, self.settings.tmp_dir) as path:
            with ThreadPoolExecutor(1, thread_name_prefix="speech") as pool:
                speech = pool.submit(self._speech, path) if self.video.has_audio else None
                try:
                    with self.stage("frames"):
                        scan = scan_frames(path, self.video.rotation, lambda f: self.progress.advance("frames", f))
                    if self.needs_proxy:
                        with self.stage("proxy"):
                            self._proxy(path)
                except BaseException:
                    self._cancel.set()
                    raise
                language, segments = speech.result() if speech else (None, [])
        words = [word for segment in segments for word in segment.words]
        with self.stage("scenes"):
            spans = build_scenes(scan.shots, words, unlikeness(scan.candidates))
            scenes = [Scene(i, span.start_s, span.end_s, words=w) for i, (span, w) in enumerate(zip(spans, align_words(spans, words)))]
        with self.stage("keyframes"):
            cuts = [shot.start_s for shot in scan.shots[1:]]
            chosen = [choose_keyframes(span, scan.candidates, cuts) for span in spans]
            for scene, keyframes in zip(scenes, chosen):
                keep = self._keeper(f"kf/{scene.idx:04d}-")
                scene.keyframes = [Keyframe(k.t, keep(thumbnail(k))) for k in keyframes]
        with self.stage("ocr"):
            reader = self.registry.get("ocr")
            for scene, keyframes in zip(scenes, chosen):
                scene.ocr = read_scene_text(keyframes, reader)
                self.progress.advance("ocr", (scene.idx + 1) / len(scenes))
        with self.stage("visual"):
            visual, clip_tags = clip_scenes(chosen, self.registry)
            for scene, keyframes, extra in zip(scenes, chosen, clip_tags):
                scene.tags = [tag.as_dict() for tag in merge(tag_scene(keyframes, self.registry) + extra)]
                self.progress.advance("visual", (scene.idx + 1) / len(scenes))
        if self.with_faces:
            with self.stage("faces"):
                analyzer = self.registry.get("faces")
                for scene, keyframes in zip(scenes, chosen):
                    scene.faces = faces_in_scene(keyframes, analyzer, self._keeper(f"faces/{scene.idx:04d}-"), people_tagged(scene.tags))
                    self.progress.advance("faces", (scene.idx + 1) / len(scenes))
        with self.stage("embed"):
            vectors = embed_scenes(scenes, self.registry.get("text")) + ([visual] if visual else [])
        return VideoIndex(
            video_id=str(self.video.id),
            run=self.run,
            duration_s=round(scan.end_s, 3),
            language=language,
            models=self._models(),
            shots=scan.shots,
            segments=segments,
            scenes=scenes,
            vectors=vectors,
        )

    def _proxy(self, path: Path) -> None:
        """Transcode the browser-playable copy once; the video row points at it as soon as it is stored."""
        key = proxy_key(self.video.user_id, self.video.id)
        self.settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.settings.tmp_dir, prefix="proxy-", suffix=".mp4") as copy:
            make_proxy(path, Path(copy.name), self.video.rotation, lambda f: self.progress.advance("proxy", f))
            with open(copy.name, "rb") as made:
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

    def _heartbeat(self, done: threading.Event) -> None:
        """Tell the job row the run is alive; stop the run when the row says so (or is gone)."""
        while not done.wait(HEARTBEAT_S):
            try:
                if not beat(self.db, self.job_id):
                    self.stop.set()
            except Exception as exc:  # the database is away: the run finds out on its own
                log.warning("heartbeat of job %s failed: %s", self.job_id, exc)

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
        return {role: {"name": self.registry.info(role).name, "version": self.registry.info(role).version} for role in used}

    def _sweep_abandoned_runs(self) -> None:
        """Remove blobs of earlier runs that never committed (a crashed process leaves them)."""
        runs = video_prefix(self.video.user_id, self.video.id) + "r/"
        found = {key[len(runs) :].split("/", 1)[0] for key in self.store.keys(runs)}
        for run in found - {self.video.index_run}:
            self.store.delete_prefix(f"{runs}{run}/")

    def _fail(self, exc: BaseException) -> HeimdexError:
        """Drop this run's blobs, then record the failure (or cancellation) on the video and the job.

        Best effort: with the database away the records stay as they are, and recovery
        finds the job by its silent heartbeat.
        """
        stage = self.failed_stage or "commit"
        self.store.delete_prefix(self.prefix)
        if isinstance(exc, JobCancelled) or self.stop.is_set():
            self._record("cancelled", None, None, stage)
            return exc if isinstance(exc, JobCancelled) else JobCancelled("The job was cancelled.")
        if isinstance(exc, BadInput):
            code, message = exc.code, exc.message
            log.error("video %s failed in %s: %s", self.video.id, stage, message)
        else:
            code, reason = _reason(exc)
            error_id = uuid.uuid4().hex[:8]
            message = f"Indexing failed while {DOING[stage]}: {reason} (error {error_id})."
            log.error("video %s failed in %s (error %s)", self.video.id, stage, error_id, exc_info=exc)
        self._record("failed", code, message, stage)
        return IndexingFailed(stage, code, message)

    def _record(self, outcome: str, code: str | None, message: str | None, stage: str) -> None:
        try:
            with self.db.transaction() as conn:
                if outcome == "cancelled":  # the video goes back to what it was before this run
                    restore_video(conn, self.video.id)
                else:
                    conn.execute(
                        """UPDATE videos SET state = 'failed', error_code = %s, error_message = %s, error_stage = %s,
                               updated_at = now() WHERE id = %s""",
                        (code, message, stage, self.video.id),
                    )
                conn.execute(
                    "UPDATE jobs SET state = %s, error = %s, finished_at = now() WHERE id = %s",
                    (outcome, f"{stage}: {message}" if message else "cancelled", self.job_id),
                )
        except Exception as exc:
            log.warning("could not record the end of job %s: %s", self.job_id, exc)
