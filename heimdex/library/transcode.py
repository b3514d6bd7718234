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

from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.error
import av.stream
import av.video
import cv2
import numpy as np

from heimdex.library.hdr import is_hdr, sdr_pixels

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


class Encoder:
    """An H.264/AAC MP4 being written: decoded frames in, at most ``MAX_FPS`` pictures a second (scaled to at most
    1280 px, HDR made SDR, turned upright) and the sound as stereo 48 kHz, both timed from ``start_s``."""

    def __init__(
        self,
        out: av.container.OutputContainer,
        video: av.video.stream.VideoStream,
        sound: bool,
        rotation: int = 0,
        start_s: float = 0.0,
        max_rate: str | None = None,
    ):
        options = {"preset": "veryfast", "crf": "26"}
        if max_rate:
            options.update(maxrate=max_rate, bufsize=max_rate)
        self.width, self.height = _size(video.codec_context.width, video.codec_context.height, rotation)
        rate = min(MAX_FPS, round(float(video.average_rate or video.guessed_rate or MAX_FPS)) or MAX_FPS)
        self.out, self.rotation, self.start_s = out, rotation, start_s
        self.video = out.add_stream("libx264", rate=rate, options=options)
        self.video.width, self.video.height, self.video.pix_fmt = self.width, self.height, "yuv420p"
        self.video.codec_context.time_base = TIME_BASE
        self.sound = self.resampler = None
        if sound:
            self.sound = out.add_stream("aac", rate=48000, layout="stereo")
            self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)
        self.frames, self._last_pts, self._audio_pts = 0, -1, 0

    def picture(self, frame: av.VideoFrame) -> bool:
        """Encode ``frame`` (shown at ``frame.time``) unless it comes too soon after the last; whether it was."""
        assert frame.time is not None
        pts = int((frame.time - self.start_s) / TIME_BASE)
        if self._last_pts >= 0 and (pts <= self._last_pts or pts - self._last_pts < 1000 // MAX_FPS - 1):
            return False  # at most MAX_FPS frames a second, in order
        self._last_pts = pts
        if self.rotation % 360 or is_hdr(frame):  # scaled, made SDR, then turned upright
            stored = (self.height, self.width) if self.rotation % 180 == 90 else (self.width, self.height)
            pixels = upright(sdr_pixels(frame, *stored), self.rotation)
            shown = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24").reformat(format="yuv420p")
        else:
            shown = frame.reformat(width=self.width, height=self.height, format="yuv420p")
        shown.pts, shown.time_base = pts, TIME_BASE
        self.out.mux(self.video.encode(shown))
        self.frames += 1
        return True

    def audio(self, frame: av.AudioFrame | None) -> None:
        """Encode ``frame``'s sound (None: what the resampler still holds)."""
        if self.resampler is None or self.sound is None:
            return
        for chunk in self.resampler.resample(frame):
            chunk.pts, chunk.time_base = self._audio_pts, Fraction(1, 48000)
            self._audio_pts += chunk.samples
            self.out.mux(self.sound.encode(chunk))

    def close(self) -> None:
        """Flush both encoders."""
        self.out.mux(self.video.encode(None))
        if self.sound is not None:
            self.audio(None)
            self.out.mux(self.sound.encode(None))


class Proxy:
    """The playable copy written from frames decoded elsewhere (the frames stage's one decode): ``add`` each
    picture in time order; the sound is read from the file here, as far as the pictures have come."""

    def __init__(self, source: Path, target: Path, rotation: int = 0):
        self._input = av.open(str(source))
        self._output = av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"})
        sound = self._input.streams.audio[0] if self._input.streams.audio else None
        self.encoder = Encoder(self._output, self._input.streams.video[0], sound is not None, rotation)
        self._sound = decoded(self._input, sound) if sound is not None else iter(())
        self._held: av.AudioFrame | None = None

    def add(self, frame: av.VideoFrame) -> None:
        if frame.time is None or not self.encoder.picture(frame):
            return
        self._audio_until(frame.time)

    def close(self) -> int:
        """Write the rest of the sound and finish the file; the number of pictures written."""
        try:
            self._audio_until(float("inf"))
            self.encoder.close()
        finally:
            self._output.close()
            self._input.close()
        return self.encoder.frames

    def abandon(self) -> None:
        self._output.close()
        self._input.close()

    def _audio_until(self, t: float) -> None:
        while True:
            frame = self._held or next(self._sound, None)
            self._held = None
            if frame is None:
                return
            if frame.time is not None and frame.time > t:
                self._held = frame
                return
            self.encoder.audio(frame)


def decoded(container: av.container.InputContainer, stream: av.stream.Stream) -> Iterator:
    """Every frame of ``stream`` that decodes: a damaged packet is skipped, and damage the demuxer cannot pass ends
    the stream there."""
    try:
        for packet in container.demux(stream):
            try:
                yield from packet.decode()
            except av.error.InvalidDataError:
                continue
    except av.error.FFmpegError:
        return


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
    with (
        av.open(str(source)) as inp,
        av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        encoder = Encoder(out, vin, ain is not None, rotation, start_s, max_rate)
        duration = float(inp.duration / av.time_base) if inp.duration else 0.0
        if end_s is not None:
            duration = min(duration or end_s, end_s)
        if start_s > 0:  # from the keyframe before it; the frames before start_s are decoded, never written
            inp.seek(int(start_s / av.time_base), backward=True, any_frame=False)
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
                    if encoder.picture(frame) and on_progress and duration and encoder.frames % 30 == 0:
                        on_progress(min(1.0, (frame.time - start_s) / max(1e-6, duration - start_s)))
                elif isinstance(frame, av.AudioFrame):
                    if end_s is not None and frame.time is not None and frame.time >= end_s:
                        ended.add("audio")
                    if frame.time is None or (start_s > 0 and frame.time < start_s) or "audio" in ended:
                        continue
                    encoder.audio(frame)
        encoder.close()
    return encoder.frames
