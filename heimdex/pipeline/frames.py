"""Stage 3, frames: the one decode pass over the picture (and the playable copy's, when one is made).

The decoder (with its own threads) skips the frames no other frame refers to, which
for typical H.264 is every other frame and a third of the decoding work; a cut is
then seen at most one frame late. Decoding runs in a thread of its
own, a few frames ahead of the analysis. Each decoded frame is scaled once to
PySceneDetect's working size for the shot detectors; four times a second that
small copy also scores the frame as a keyframe, and the best frame of each
second is kept at the size the models read. Nothing else decodes the video.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.error
import av.video

from heimdex.library.hdr import sdr_pixels
from heimdex.library.media import TRUNCATION_TOLERANCE_S, format_duration, media_error, time_base
from heimdex.library.transcode import decoded
from heimdex.pipeline.index import Shot
from heimdex.pipeline.keyframes import Candidate, KeyframeSampler
from heimdex.pipeline.shots import DETECTION_WIDTH, ShotDetector

PROGRESS_EVERY = 30  # frames
READ_AHEAD = 8  # decoded frames waiting for analysis


@dataclass(frozen=True)
class FrameScan:
    shots: list[Shot]
    candidates: list[Candidate]
    frames: int
    end_s: float  # end of the last frame


def scan_frames(
    path: Path,
    rotation: int = 0,
    on_progress: Callable[[float], None] | None = None,
    limit_s: float | None = None,
    every_frame: bool = False,
    on_frame: Callable[[av.VideoFrame], None] | None = None,
) -> FrameScan:
    """Decode the video once: its shots and its keyframe candidates. A frame later than ``limit_s`` (the length
    the upload was accepted for) stops it with :class:`~heimdex.library.media.MediaError` ``too_long``: the decoded times
    are what counts, never a header. ``every_frame``: decode the frames no other frame refers to as well (always
    when ``on_frame`` is given: it gets every decoded frame, in order, as the playable copy's encoder does)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.skip_frame = "DEFAULT" if every_frame or on_frame else "NONREF"
        duration = _duration_s(container, stream)
        frame_rate = Fraction(stream.average_rate or stream.guessed_rate or 30)
        width = DETECTION_WIDTH
        height = max(2, round(stream.codec_context.height * width / stream.codec_context.width / 2) * 2)
        shots = ShotDetector(frame_rate)
        sampler = KeyframeSampler(stream.codec_context.width, stream.codec_context.height, rotation)
        first_pts = None
        frames, end_s = 0, 0.0
        for frame in _decoded(container, stream):
            if frame.pts is None:
                continue
            first_pts = frame.pts if first_pts is None else first_pts
            pts = frame.pts - first_pts
            t = float(pts * time_base(frame))
            if limit_s is not None and t > limit_s + TRUNCATION_TOLERANCE_S:
                raise media_error(
                    "too_long", detail=f"more than {format_duration(limit_s)}", limit=format_duration(limit_s)
                )
            small = sdr_pixels(frame, width, height, "bgr24", interpolation="FAST_BILINEAR")
            shots.feed(pts, time_base(frame), small)
            sampler.offer(t, small, frame)
            if on_frame:
                on_frame(frame)
            frames += 1
            end_s = max(end_s, t + float(1 / frame_rate))
            if on_progress and frames % PROGRESS_EVERY == 0 and duration:
                on_progress(min(1.0, t / duration))
    if frames == 0:
        raise media_error("unreadable", detail="no video frame could be decoded")
    return FrameScan(shots.finish(end_s), sampler.finish(), frames, end_s)


def _decoded(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> Iterator[av.VideoFrame]:
    """The stream's frames, decoded in a thread of its own that stays ``READ_AHEAD`` frames ahead."""
    frames: queue.Queue = queue.Queue(READ_AHEAD)
    stop = threading.Event()
    end = object()

    def decode() -> None:
        try:
            for frame in decoded(container, stream):
                while not stop.is_set():
                    try:
                        frames.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            frames.put(end)
        except BaseException as exc:  # handed to the reader, raised there
            frames.put(exc)

    thread = threading.Thread(target=decode, name="decode", daemon=True)
    thread.start()
    try:
        while (item := frames.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock and wait for the decoder before the container closes
            try:
                frames.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)


def _duration_s(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return container.duration / av.time_base if container.duration else 0.0
