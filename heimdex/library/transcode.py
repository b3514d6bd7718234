"""A copy every browser plays (the pipeline's proxy stage), and a clip of a range (:mod:`heimdex.library.clips`).

HEVC from phones, VP9/AV1, MPEG-2 ``.ts``, MJPEG ``.avi``, GIF: transcoded once to H.264
(at most 1280 px, upright, HDR made SDR: :mod:`heimdex.library.hdr`) with AAC stereo sound in an MP4 that starts playing before it
is whole. The original stays the source of truth; ``/media`` uses the copy.
Damaged packets are skipped, so a copy holds whatever could be decoded.

:func:`transcode` writes the same kind of file from a range of a video: a clip
(:mod:`heimdex.library.clips`) holds only the frames and sound of its range, never the group of
pictures before it.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.error
import av.video
import cv2
import numpy as np

from heimdex.library.hdr import is_hdr, sdr_pixels
from heimdex.library.media import media_error

LONGEST_SIDE = 1280
MAX_FPS = 30
TIME_BASE = Fraction(1, 1000)


def upright(image: np.ndarray, rotation: int) -> np.ndarray:
    """The frame as it should be shown (``rotation``: the display matrix's counter-clockwise degrees)."""
    turns = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}
    return cv2.rotate(image, turns[rotation % 360]) if rotation % 360 in turns else image


def _size(width: int, height: int, rotation: int) -> tuple[int, int]:
    if rotation % 180 == 90:
        width, height = height, width
    scale = min(1.0, LONGEST_SIDE / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def make_proxy(
    source: Path, target: Path, rotation: int = 0, on_progress: Callable[[float], None] | None = None
) -> None:
    """Write the H.264/AAC MP4 copy of ``source`` to ``target``."""
    if transcode(source, target, rotation, on_progress=on_progress) == 0:
        raise media_error("unreadable", detail="no picture could be decoded")


def transcode(
    source: Path,
    target: Path,
    rotation: int = 0,
    start_s: float = 0.0,
    end_s: float | None = None,
    on_progress: Callable[[float], None] | None = None,
    max_rate: str | None = None,
) -> int:
    """Write ``start_s``..``end_s`` of ``source`` (all of it by default) to ``target`` as H.264/AAC MP4, its
    first frame at 0; return the number of frames written. ``max_rate`` (e.g. ``"2M"``) caps the bitrate."""
    options = {"preset": "veryfast", "crf": "26"}
    if max_rate:
        options.update(maxrate=max_rate, bufsize=max_rate)
    with (
        av.open(str(source)) as inp,
        av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        width, height = _size(vin.codec_context.width, vin.codec_context.height, rotation)
        rate = min(MAX_FPS, round(float(vin.average_rate or vin.guessed_rate or MAX_FPS)) or MAX_FPS)
        vout = out.add_stream("libx264", rate=rate, options=options)
        vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
        vout.codec_context.time_base = TIME_BASE
        aout = resampler = None
        if ain is not None:
            aout = out.add_stream("aac", rate=48000, layout="stereo")
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)
        duration = float(inp.duration / av.time_base) if inp.duration else 0.0
        if end_s is not None:
            duration = min(duration or end_s, end_s)
        if start_s > 0:  # from the keyframe before it; the frames before start_s are decoded, never written
            inp.seek(int(start_s / av.time_base), backward=True, any_frame=False)
        last_pts, audio_pts, seen = -1, 0, 0
        streams = [vin] + ([ain] if ain is not None else [])
        ended: set[str] = set()  # the kinds of stream decoded past end_s
        for packet in inp.demux(*streams):
            if len(ended) == len(streams):
                break
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:  # a damaged packet: skip it, keep what decodes
                continue
            for frame in frames:
                if isinstance(frame, av.VideoFrame):
                    if frame.pts is None or frame.time is None or (start_s > 0 and frame.time < start_s):
                        continue  # a whole copy keeps what it had (a first frame a hair before 0 included)
                    if end_s is not None and frame.time >= end_s:
                        ended.add("video")  # the sound of the range may still come after it
                        continue
                    pts = int((frame.time - start_s) / TIME_BASE)
                    if last_pts >= 0 and (pts <= last_pts or pts - last_pts < 1000 // MAX_FPS - 1):
                        continue  # keep at most MAX_FPS frames a second, in order
                    last_pts = pts
                    if rotation % 360 or is_hdr(frame):  # scaled, made SDR, then turned upright
                        stored = (height, width) if rotation % 180 == 90 else (width, height)
                        picture = upright(sdr_pixels(frame, *stored), rotation)
                        shown = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
                        shown = shown.reformat(format="yuv420p")
                    else:
                        shown = frame.reformat(width=width, height=height, format="yuv420p")
                    shown.pts, shown.time_base = pts, TIME_BASE
                    out.mux(vout.encode(shown))
                    seen += 1
                    if on_progress and duration and seen % 30 == 0:
                        on_progress(min(1.0, (frame.time - start_s) / max(1e-6, duration - start_s)))
                elif isinstance(frame, av.AudioFrame) and resampler is not None and aout is not None:
                    if end_s is not None and frame.time is not None and frame.time >= end_s:
                        ended.add("audio")
                    if frame.time is None or (start_s > 0 and frame.time < start_s) or "audio" in ended:
                        continue
                    for chunk in resampler.resample(frame):
                        chunk.pts, chunk.time_base = audio_pts, Fraction(1, 48000)
                        audio_pts += chunk.samples
                        out.mux(aout.encode(chunk))
        out.mux(vout.encode(None))
        if aout is not None and resampler is not None:
            for chunk in resampler.resample(None):
                chunk.pts, chunk.time_base = audio_pts, Fraction(1, 48000)
                audio_pts += chunk.samples
                out.mux(aout.encode(chunk))
            out.mux(aout.encode(None))
    return seen
