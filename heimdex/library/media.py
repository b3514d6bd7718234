"""Media probing and validation with PyAV (FFmpeg's libraries; no ffmpeg binary).

:func:`probe` reads a file's container and streams in a child process with a
time limit, so a hostile file can neither crash nor hang the caller.
:func:`validate` applies the product's limits. Every failure is a
:class:`MediaError` with a stable ``code`` and a message for people.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from heimdex.errors import BadInput, Kind

log = logging.getLogger(__name__)

# How close to the container's duration the last packet must end for a file to count as whole.
TRUNCATION_TOLERANCE_S = 1.5
# Relative spread of frame intervals above which a video counts as variable frame rate.
VFR_SPREAD = 0.10
# Share of intervals off the typical one above which it is variable (not a lone glitch).
VFR_SHARE = 0.02


class MediaError(BadInput):
    """A file that cannot be indexed; ``code`` is one of :data:`CODES`."""

    kind = Kind.INVALID


CODES = {
    "empty_file": "The file is empty.",
    "not_media": "This is not a video file: no audio or video could be read from it.",
    "no_video_stream": "The file has no video track, only {detail}; upload a video.",
    "unreadable": "The video could not be read ({detail}); the file may be truncated or corrupt.",
    "zero_duration": "The video has no duration.",
    "too_long": "The video is {detail} long; the limit is {limit}.",
    "too_large": "The file is {detail}; the limit is {limit}.",
    "probe_timeout": "Reading the file took longer than {limit}; it may be damaged.",
    "bad_filename": "The file name {detail} is not allowed.",
    "picture_file": "This is a picture, not a video; upload a video file.",
    "too_many_pixels": "The video's picture is {detail}; the largest Heimdex reads is {limit}.",
}

MAX_SIDE = 8192  # pixels
MAX_PIXELS = 7680 * 4320  # 8K UHD
PICTURE_FORMATS = (
    "image2",
    "image2pipe",
    "png_pipe",
    "jpeg_pipe",
    "webp_pipe",
    "bmp_pipe",
    "tiff_pipe",
    "gif_pipe",
    "jpegxl_pipe",
    "heif",
    "ico",
)
# Containers (as PyAV names them) and the type a browser is told.
MIME_TYPES = {
    "mov": "video/mp4",
    "matroska": "video/webm",
    "avi": "video/x-msvideo",
    "mpegts": "video/mp2t",
    "gif": "image/gif",
    "flv": "video/x-flv",
    "mpeg": "video/mpeg",
    "ogg": "video/ogg",
}


def mime_type(container: str) -> str:
    """The media type of a container as :func:`probe` names it (``mov`` is the MP4 family)."""
    return MIME_TYPES.get(container, "application/octet-stream")


def plays_in_browsers(container: str, video_codec: str, audio_codec: str | None) -> bool:
    """Whether every common browser plays the file as it is: H.264 in MP4 with AAC or MP3 sound (or none)."""
    return container == "mov" and video_codec == "h264" and audio_codec in (None, "aac", "mp3")


def time_base(stream) -> Fraction:
    """A stream's time base (PyAV gives None only for streams it cannot time, which probing refuses)."""
    if stream.time_base is None:
        raise MediaError("unreadable", "The video has no timing information.")
    return stream.time_base


def frame_at(path: Path, seconds: float):
    """The RGB frame shown at ``seconds`` (eval and tests take photos from clips with it)."""
    import av
    import av.error

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        container.seek(int(seconds / time_base(stream)), stream=stream)
        for frame in container.decode(stream):
            if frame.time >= seconds - 0.05:
                return frame.to_ndarray(format="rgb24")
    raise ValueError(f"{path.name} has no frame at {seconds} s")


def media_error(code: str, detail: str = "", limit: str = "") -> MediaError:
    """The :class:`MediaError` for ``code``, its message filled in."""
    return MediaError(code, CODES[code].format(detail=detail, limit=limit))


@dataclass(frozen=True)
class MediaInfo:
    """What probing learned about a file."""

    container: str
    duration_s: float
    width: int
    height: int
    fps: float | None
    is_vfr: bool
    rotation: int
    video_codec: str
    audio_codec: str | None
    has_audio: bool
    size_bytes: int


PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])  # the child imports this same heimdex, from any cwd


def probe(path: Path, timeout_s: float = 30.0) -> MediaInfo:
    """Probe ``path`` in a child process; raise :class:`MediaError` for anything unusable."""
    if path.stat().st_size == 0:
        raise media_error("empty_file")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "heimdex.library.media", str(path)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")])),
            },
        )
    except subprocess.TimeoutExpired:
        raise media_error("probe_timeout", limit=f"{timeout_s:g} s") from None
    if done.returncode != 0 or not done.stdout.strip():
        log.warning("the probe of an upload stopped with status %s: %s", done.returncode, done.stderr[-2000:])
        raise media_error("unreadable", detail="reading it stopped the reader")
    answer = json.loads(done.stdout)
    if "error" in answer:
        raise MediaError(answer["error"], answer["message"])
    return MediaInfo(**answer)


def validate(info: MediaInfo, max_duration_s: float, max_bytes: int) -> None:
    """Raise :class:`MediaError` when ``info`` breaks the product's limits."""
    if info.size_bytes > max_bytes:
        raise media_error("too_large", detail=format_bytes(info.size_bytes), limit=format_bytes(max_bytes))
    if info.duration_s > max_duration_s:
        raise media_error("too_long", detail=format_duration(info.duration_s), limit=format_duration(max_duration_s))
    if max(info.width, info.height) > MAX_SIDE or info.width * info.height > MAX_PIXELS:
        raise media_error("too_many_pixels", detail=f"{info.width}x{info.height}", limit="7680x4320 (8K)")


def format_duration(seconds: float) -> str:
    """``754.2`` → ``'12:34'``."""
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}"


def format_bytes(size: int) -> str:
    """``1536`` → ``'1.5 KB'`` (binary units, as file managers show them)."""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def read_info(path: Path) -> MediaInfo:
    """Probe ``path`` in this process (the child side of :func:`probe`)."""
    import av
    import av.error

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.InvalidDataError, av.error.EOFError):
        if _has_container_signature(path):
            raise media_error("unreadable", detail="its index is missing") from None
        raise media_error("not_media") from None
    except av.error.FFmpegError:
        raise media_error("unreadable", detail="its format is damaged") from None
    with container:
        if container.format.name in PICTURE_FORMATS:
            raise media_error("picture_file")
        if not container.streams.video:
            kinds = sorted({s.type for s in container.streams})
            if not kinds:
                raise media_error("not_media")
            raise media_error("no_video_stream", detail=" and ".join(f"{k}" for k in kinds))
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        duration_s = _duration(container, video)
        if duration_s <= 0:
            raise media_error("zero_duration")
        rotation = _check_decodes(container, video)
        duration_s = _check_whole(container, video, audio, duration_s)  # what the packets hold, not the header
        return MediaInfo(
            container=container.format.name.split(",")[0],
            duration_s=round(duration_s, 3),
            width=video.codec_context.width,
            height=video.codec_context.height,
            fps=float(video.average_rate or video.guessed_rate or 0) or None,
            is_vfr=_is_vfr(container, video),
            rotation=rotation,
            video_codec=_codec_name(video),
            audio_codec=_codec_name(audio) if audio else None,
            has_audio=audio is not None,
            size_bytes=path.stat().st_size,
        )


# Leading bytes of common video containers: (offset, signature).
CONTAINER_SIGNATURES = (
    (4, b"ftyp"),  # MP4, MOV, 3GP
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska, WebM
    (0, b"RIFF"),  # AVI
    (0, b"FLV"),
    (0, b"\x00\x00\x01\xba"),  # MPEG-PS
)


def _codec_name(stream) -> str:
    """The format's name (``av1``), not the decoder's (``libdav1d``)."""
    codec = stream.codec_context.codec
    return getattr(codec, "canonical_name", None) or codec.name


def _has_container_signature(path: Path) -> bool:
    """Whether the file starts like a video container (so a failure means damage, not a wrong type)."""
    with path.open("rb") as head:
        start = head.read(16)
    return any(start[offset : offset + len(sig)] == sig for offset, sig in CONTAINER_SIGNATURES)


def _duration(container, video) -> float:
    if container.duration:
        return container.duration / 1_000_000
    if video.duration and video.time_base:
        return float(video.duration * video.time_base)
    return 0.0


def _check_decodes(container, video) -> int:
    """Decode the first frame; return its display rotation in degrees."""
    import av
    import av.error

    try:
        for frame in container.decode(video):
            return int(frame.rotation or 0) % 360
    except av.error.FFmpegError:
        raise media_error("unreadable", detail="its first picture is damaged") from None
    raise media_error("unreadable", detail="no picture could be decoded")


def _check_whole(container, video, audio, duration_s: float) -> float:
    """Seek near the stated end and demux to the real one: a truncated file stops short of its stated duration
    (refused); the video's true length is where its packets end (a header may claim 10 s for 30 minutes). A
    picture that ends before its sound, while the sound reaches the stated end, is a whole file (a phone may
    record so): its length is the sound's."""
    reached = _stream_end(container, video, duration_s)
    if reached is None:
        raise media_error("unreadable", detail="the end of the video is missing")
    if reached < duration_s - TRUNCATION_TOLERANCE_S:
        heard = _stream_end(container, audio, duration_s) if audio is not None else None
        if heard is None or heard < duration_s - TRUNCATION_TOLERANCE_S:
            raise media_error("unreadable", detail=f"the video stops at {reached:.1f} s of {duration_s:.1f} s")
        return max(duration_s, heard)
    return max(duration_s, reached)


def _stream_end(container, stream, duration_s: float) -> float | None:
    """Where ``stream``'s packets end, in seconds from its start (demuxed from 5 s before ``duration_s``); None if
    it has no timed packet there."""
    import av.error

    last_end = None
    try:
        container.seek(int(max(0.0, duration_s - 5.0) / stream.time_base), stream=stream, backward=True)
        for packet in container.demux(stream):
            if packet.pts is not None:
                end = float((packet.pts + (packet.duration or 0)) * stream.time_base)
                last_end = end if last_end is None else max(last_end, end)
    except av.error.FFmpegError:
        raise media_error("unreadable", detail="its end is damaged") from None
    if last_end is None:
        return None
    return last_end - (float(stream.start_time * stream.time_base) if stream.start_time else 0.0)


def _is_vfr(container, video) -> bool:
    """Whether frame intervals vary, judged from the index (no reading) or the first packets."""
    times = sorted(entry.timestamp for entry in video.index_entries)
    if len(times) < 3:
        container.seek(0, stream=video)
        times = []
        for packet in container.demux(video):
            if packet.pts is not None:
                times.append(packet.pts)
            if len(times) >= 300:
                break
        times.sort()
    deltas = [b - a for a, b in zip(times, times[1:]) if b > a]
    if len(deltas) < 2:
        return False
    typical = statistics.median(deltas)
    uneven = sum(1 for d in deltas if abs(d - typical) / typical > VFR_SPREAD)
    return uneven > max(1, VFR_SHARE * len(deltas))  # a lone odd interval (a stream's start, a splice) is not VFR


def _main(argv: list[str]) -> int:
    try:
        answer = asdict(read_info(Path(argv[1])))
    except MediaError as exc:
        answer = {"error": exc.code, "message": exc.message}
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
