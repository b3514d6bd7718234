"""Clips: a moment of a video as a file of its own, holding only that moment.

The clip is encoded again (:func:`heimdex.library.transcode.transcode`) from the playable copy
or the upload, at most 1280 px and :data:`MAX_RATE`: a copy of the packets would start at the
keyframe before the moment and so hold video from before it. A clip is at most
:data:`MAX_CLIP_S` long, so at most about 30 MB.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import av.error

from heimdex.errors import BadInput, Kind
from heimdex.library.media import mime_type
from heimdex.library.transcode import transcode
from heimdex.library.videos import Video
from heimdex.storage import BlobStore, local_copy

log = logging.getLogger(__name__)

MAX_CLIP_S = 120.0
MAX_RATE = "2M"  # bits a second


class ClipFailed(BadInput):
    def __init__(self) -> None:
        super().__init__(
            "clip_failed",
            "This clip could not be cut from the video; try a moment a little earlier or later.",
            Kind.UNPROCESSABLE,
        )


def clip_range(video: Video, start_s: float, end_s: float) -> tuple[float, float]:
    """``start_s``..``end_s`` of ``video`` as a clip can be cut (its end within the video and :data:`MAX_CLIP_S`);
    :class:`BadInput` when it is no range of the video, or the video has no playable copy yet."""
    if not (math.isfinite(start_s) and math.isfinite(end_s)) or not 0 <= start_s < end_s:
        raise BadInput("bad_range", "The clip needs a start before its end.")
    if start_s >= video.duration_s:
        raise BadInput("bad_range", f"The video is only {video.duration_s:.1f} s long.")
    if not video.proxy_key and mime_type(video.container) != "video/mp4":
        raise BadInput("not_indexed", "Clips of this video can be downloaded once it is indexed.", Kind.CONFLICT)
    return start_s, min(end_s, video.duration_s, start_s + MAX_CLIP_S)


def cut_video(store: BlobStore, tmp_dir: Path, video: Video, start_s: float, end_s: float, target: Path) -> Path:
    """Cut :func:`clip_range` of the stored ``video`` (its playable copy) into ``target``."""
    start_s, end_s = clip_range(video, start_s, end_s)
    with local_copy(store, video.proxy_key or video.blob_key, tmp_dir) as source:
        return cut(source, start_s, end_s, target, 0 if video.proxy_key else video.rotation)


def cut(source: Path, start_s: float, end_s: float, target: Path, rotation: int = 0) -> Path:
    """Encode ``start_s``..``end_s`` of ``source`` into ``target`` (H.264/AAC MP4 of at most :data:`MAX_RATE`):
    the frames of that range only, none from before it.

    :class:`ClipFailed` (the cause logged) when the source cannot be decoded, or holds no picture in the range.
    """
    end_s = min(end_s, start_s + MAX_CLIP_S)
    try:
        written = transcode(source, target, rotation, start_s, end_s, max_rate=MAX_RATE)
    except (av.error.FFmpegError, ValueError) as exc:
        log.warning("cutting %.2f-%.2f s failed", start_s, end_s, exc_info=exc)
        raise ClipFailed() from None
    if not written:
        raise ClipFailed()
    return target
