"""Clips: a moment cut out of a video without re-encoding (PyAV remux from the keyframe before it).

The source is an MP4 the browser plays: the upload itself, or its playable copy
(:mod:`heimdex.pipeline.proxy`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import av
import av.container
import av.error
import av.video

from heimdex.errors import BadInput
from heimdex.media import time_base

log = logging.getLogger(__name__)

MAX_CLIP_S = 120.0


class ClipFailed(BadInput):
    def __init__(self) -> None:
        super().__init__(
            "clip_failed", "This clip could not be cut from the video; try a moment a little earlier or later."
        )


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
