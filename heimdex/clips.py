"""Clips: a moment cut out of a video without re-encoding (PyAV remux from the keyframe before it)."""

from __future__ import annotations

from pathlib import Path

import av

MAX_CLIP_S = 120.0


def cut(source: Path, start_s: float, end_s: float, target: Path) -> Path:
    """Copy ``start_s``..``end_s`` of ``source`` into ``target`` (MP4); it starts at the keyframe at or before ``start_s``."""
    end_s = min(end_s, start_s + MAX_CLIP_S)
    with av.open(str(source)) as inp, av.open(str(target), "w", format="mp4") as out:
        streams = [s for s in inp.streams if s.type in ("video", "audio")]
        outputs = {s.index: out.add_stream_from_template(s) for s in streams}
        video = inp.streams.video[0]
        inp.seek(int(max(0.0, start_s) / video.time_base), stream=video, backward=True, any_frame=False)
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
    return target
