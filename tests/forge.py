"""Media made for tests with PyAV (no ffmpeg binary): the formats people upload, and damaged files."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

SECONDS = 3.0
FPS = 25


def _picture(i: int, width: int, height: int) -> np.ndarray:
    """A moving bright square on a gradient that changes colour halfway (a cut)."""
    y, x = np.mgrid[0:height, 0:width]
    shade = 90 if i < FPS * SECONDS / 2 else 170
    image = np.stack([(x * 255 // max(1, width - 1)), np.full_like(x, shade), (y * 255 // max(1, height - 1))], -1)
    side = max(2, min(width, height) // 4)
    left = (i * 3) % max(1, width - side)
    image[height // 3 : height // 3 + side, left : left + side] = 250
    return image.astype(np.uint8)


@contextmanager
def _scheduling_kept() -> Iterator[None]:
    """SVT-AV1 moves the thread that opens it to real-time scheduling wherever it may (as root). Put the test
    process back afterwards: every app, worker and browser it starts later would inherit SCHED_FIFO, and on two
    cores a real-time Chromium starves everything else."""
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        yield
    finally:
        if os.sched_getscheduler(0) != policy:
            os.sched_setscheduler(0, policy, param)


def make(
    path: Path,
    codec: str = "libx264",
    container: str | None = None,
    size: tuple[int, int] = (320, 240),
    frames: int = int(FPS * SECONDS),
    pix_fmt: str = "yuv420p",
    audio: str | None = "aac",
    channels: str = "stereo",
    video_streams: int = 1,
    audio_streams: int = 1,
    options: dict | None = None,
    b_frames: int = 0,
    container_options: dict | None = None,
) -> Path:
    """Write a clip: ``video_streams`` pictures and ``audio_streams`` tones (audio codec ``audio``, None for silence)."""
    width, height = size
    with _scheduling_kept(), av.open(str(path), "w", format=container, options=container_options or {}) as out:
        videos = []
        for _ in range(video_streams):
            stream = out.add_stream(codec, rate=FPS, options=options or {})
            stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
            if b_frames:
                stream.codec_context.max_b_frames = b_frames
            videos.append(stream)
        sounds = []
        for n in range(audio_streams if audio else 0):
            sound = out.add_stream(audio, rate=48000, layout=channels)
            sounds.append((sound, 220.0 * (n + 1)))
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(_picture(i, width, height), format="rgb24")
            for stream in videos:
                frame.pts, frame.time_base = i, Fraction(1, FPS)
                out.mux(stream.encode(frame.reformat(format=pix_fmt)))
        for stream in videos:
            out.mux(stream.encode(None))
        for sound, pitch in sounds:
            samples = sound.codec_context.frame_size or 1024
            layout = av.AudioLayout(channels)
            total = int(48000 * frames / FPS)
            for start in range(0, total, samples):
                t = (np.arange(start, start + samples) / 48000.0).astype(np.float32)
                tone = np.tile(0.2 * np.sin(2 * np.pi * pitch * t), (len(layout.channels), 1)).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(tone, format="fltp", layout=channels)
                frame.sample_rate, frame.pts, frame.time_base = 48000, start, Fraction(1, 48000)
                out.mux(sound.encode(frame))
            out.mux(sound.encode(None))
    return path


def cut(source: Path, target: Path, fraction: float) -> Path:
    """The first ``fraction`` of a file's bytes (an interrupted copy)."""
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def scramble(source: Path, target: Path, start: float = 0.35, share: float = 0.3, seed: int = 7) -> Path:
    """A copy with ``share`` of its bytes from ``start`` on replaced by noise (a damaged disk)."""
    data = bytearray(source.read_bytes())
    rng = random.Random(seed)
    first, last = int(len(data) * start), int(len(data) * (start + share))
    data[first:last] = bytes(rng.getrandbits(8) for _ in range(last - first))
    target.write_bytes(bytes(data))
    return target


def speaking(
    path: Path, speech: Path, seconds: float = 12.0, size: tuple[int, int] = (320, 240), picture_s: float | None = None
) -> Path:
    """A clip of moving pictures whose sound is the first ``seconds`` of ``speech`` (any audio file PyAV reads);
    ``picture_s``: the pictures stop there while the sound runs on (as some phones record)."""
    width, height = size
    with _scheduling_kept(), av.open(str(path), "w") as out, av.open(str(speech)) as heard:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = out.add_stream("aac", rate=48000, layout="mono")
        for i in range(int(FPS * (seconds if picture_s is None else picture_s))):
            frame = av.VideoFrame.from_ndarray(_picture(i, width, height), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            out.mux(video.encode(frame.reformat(format="yuv420p")))
        out.mux(video.encode(None))
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=48000)
        for decoded in heard.decode(audio=0):
            if decoded.time is not None and decoded.time >= seconds:
                break
            for frame in resampler.resample(decoded):
                out.mux(sound.encode(frame))
        out.mux(sound.encode(None))
    return path


def phone_hdr(
    path: Path,
    source: Path,
    transfer: str,
    seconds: float = 2.0,
    rotation: int = 90,
    times: list[float] | None = None,
) -> list[np.ndarray]:
    """A phone's HDR clip: ``seconds`` of ``source`` (SDR) at 640x360, converted by FFmpeg's scaler to ``transfer``
    (``arib-std-b67``: HLG, ``smpte2084``: PQ) in BT.2020, HEVC 10-bit at 30 fps, shown turned by ``rotation``.
    ``times``: a variable frame rate instead, as phones record in the dark: source frame ``i`` shown at ``times[i]``
    (timed in 1/600 s, a phone's QuickTime clock). Returns the SDR frames it was made from (as stored, not turned), RGB."""
    from av.video.reformatter import ColorPrimaries, Colorspace, ColorTrc

    width, height = 640, 360
    trc = {"arib-std-b67": ColorTrc.ARIB_STD_B67, "smpte2084": ColorTrc.SMPTE2084}[transfer]
    originals = []
    with _scheduling_kept(), av.open(str(source)) as src, av.open(str(path), "w", format="mov") as out:
        stream = out.add_stream("libx265", rate=30, options={"preset": "ultrafast", "x265-params": "log-level=none"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p10le"
        codec = stream.codec_context
        codec.color_trc, codec.color_primaries, codec.colorspace = trc, ColorPrimaries.BT2020, Colorspace.BT2020
        stream.set_display_rotation(rotation)
        clock = Fraction(1, 600) if times else Fraction(1, 30)
        codec.time_base = clock
        video = src.streams.video[0]
        graph = av.filter.Graph()
        chain = [
            graph.add(
                "buffer",
                f"video_size={video.width}x{video.height}:pix_fmt={video.format.name}:time_base=1/30:"
                "colorspace=bt709:range=tv",
            ),
            graph.add(
                "scale",
                f"w={width}:h={height}:in_transfer=bt709:in_primaries=bt709:out_transfer={transfer}:"
                "out_primaries=bt2020:out_color_matrix=bt2020nc:out_range=tv",
            ),
            graph.add("format", "yuv420p10le"),
            graph.add("buffersink"),
        ]
        for a, b in zip(chain, chain[1:]):
            a.link_to(b)
        graph.configure()
        for i, frame in enumerate(src.decode(video)):
            if i >= (len(times) if times else seconds * 30):
                break
            frame.color_trc, frame.color_primaries = ColorTrc.BT709, ColorPrimaries.BT709
            graph.push(frame)
            coded = graph.pull()
            coded.pts, coded.time_base = (round(times[i] / clock) if times else i), clock
            coded.color_trc, coded.color_primaries, coded.colorspace = trc, ColorPrimaries.BT2020, Colorspace.BT2020
            out.mux(stream.encode(coded))
            originals.append(frame.reformat(width=width, height=height, format="rgb24").to_ndarray())
        out.mux(stream.encode(None))
    return originals
