"""Clips: a moment cut out of a video without re-encoding (PyAV remux from the keyframe before it).

The source is an MP4 the browser plays: the upload itself, or its playable copy
(:mod:`heimdex.pipeline.proxy`). A clip is at most :data:`MAX_CLIP_S` long.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import av
import av.container
import av.error
import av.video

from heimdex.errors import BadInput
from heimdex.media import mime_type, time_base
from heimdex.storage import BlobStore, local_copy
from heimdex.videos import Video

log = logging.getLogger(__name__)

MAX_CLIP_S = 120.0


class ClipFailed(BadInput):
    def __init__(self) -> None:
        super().__init__(
            "clip_failed", "This clip could not be cut from the video; try a moment a little earlier or later."
        )


def clip_range(video: Video, start_s: float, end_s: float) -> tuple[float, float]:
    """``start_s``..``end_s`` of ``video`` as a clip can be cut (its end within the video and :data:`MAX_CLIP_S`);
    :class:`BadInput` when it is no range of the video, or the video has no playable copy yet."""
    if not (math.isfinite(start_s) and math.isfinite(end_s)) or not 0 <= start_s < end_s:
        raise BadInput("bad_range", "The clip needs a start before its end.")
    if start_s >= video.duration_s:
        raise BadInput("bad_range", f"The video is only {video.duration_s:.1f} s long.")
    if not video.proxy_key and mime_type(video.container) != "video/mp4":
        raise BadInput("not_indexed", "Clips of this video can be downloaded once it is indexed.")
    return start_s, min(end_s, video.duration_s, start_s + MAX_CLIP_S)


def cut_video(store: BlobStore, tmp_dir: Path, video: Video, start_s: float, end_s: float, target: Path) -> Path:
    """Cut :func:`clip_range` of the stored ``video`` (its playable copy) into ``target``."""
    start_s, end_s = clip_range(video, start_s, end_s)
    with local_copy(store, video.proxy_key or video.blob_key, tmp_dir) as source:
        return cut(source, start_s, end_s, target)


def cut(source: Path, start_s: float, end_s: float, target: Path) -> Path:
    """Copy ``start_s``..``end_s`` of ``source`` into ``target`` (MP4); it starts at the keyframe at or before ``start_s``.

    :class:`ClipFailed` (the cause logged) when the source cannot be remuxed, or holds no packet in the range.
    """
    end_s = min(end_s, start_s + MAX_CLIP_S)
    try:
        written = _remux(source, start_s, end_s, target)
    except (av.error.FFmpegError, ValueError) as exc:
        log.warning("cutting %.2f-%.2f s failed", start_s, end_s, exc_info=exc)
        raise ClipFailed() from None
    if not written:
        raise ClipFailed()
    return target


def _remux(source: Path, start_s: float, end_s: float, target: Path) -> int:
    written = 0
    with av.open(str(source)) as inp, av.open(str(target), "w", format="mp4") as out:
        streams = [s for s in inp.streams if s.type in ("video", "audio")]
        outputs = {s.index: out.add_stream_from_template(s) for s in streams}
        video = inp.streams.video[0]
        inp.seek(int(max(0.0, start_s) / time_base(video)), stream=video, backward=True, any_frame=False)
        origin: dict[int, int] = {}
        for packet in inp.demux(*streams):
            if packet.dts is None or packet.pts is None:
                continue
            seconds = float(packet.pts * packet.time_base)
            if seconds > end_s:
                if packet.stream.type == "video":
                    break
                continue
            first = origin.setdefault(packet.stream.index, packet.dts)
            packet.pts -= first
            packet.dts -= first
            packet.stream = outputs[packet.stream.index]
            out.mux(packet)
            written += 1
    return written
