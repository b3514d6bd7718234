"""Benchmark indexing on a 10-minute 1080p30 H.264 video with speech.

    python -m eval.bench_index [--media ../shared/media] [--minutes 10]

The video is built deterministically from the shared clips: the first minute of
walkthrough_en.mp4 (four clips, hard cuts, speech at 2-13 s and 31-50 s) scaled
to 1920x1080 and encoded once with libx264, then its packets repeated back to
back, one copy per minute (``eval/.cache/``, reused while the recipe is unchanged). In the same run it then
times, each in a child process of its own (so each peak RSS is its own):

    (a) indexing it (the whole pipeline, into a throwaway data folder),
    (b) only decoding its frames,
    (c) only transcribing its audio (decoding the audio included),

models loaded before the clock starts in every case. It prints wall time per
stage, the total, the realtime factor, peak RSS, total / (b + c): how much
the pipeline adds to the two things it cannot avoid, and the CPU seconds of each
run: (a)'s divided by the cores is the least (a) can take, however well its
stages overlap.

    python -m eval.bench_index --phone

times (a) and (b) on a phone's worst case at the 1 GB limit instead: 2.5 minutes of 4K60 HEVC
10-bit HLG (BT.2020), shown turned a quarter (portrait), with AAC sound. It is built from
walkthrough_en.mp4's 22.5-37.5 s (a hard cut, then speech): each frame converted to HLG by
FFmpeg's scaler, scaled to 3840x2160, a blend of each two frames between them (60 fps of real
change), a sensor's noise on every frame, encoded once with libx265 at a phone's 45 Mbit/s and
repeated ten times (``eval/.cache/``, about 850 MB).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media"
CACHE = Path(__file__).resolve().parent / ".cache"
SOURCE = "walkthrough_en.mp4"
LOOP_S = 60
WIDTH, HEIGHT, FPS = 1920, 1080, 30
X264 = {"preset": "veryfast", "crf": "23", "g": "60", "profile": "high"}


def build_video(media: Path, minutes: float) -> Path:
    """The benchmark video (cached by recipe)."""

    def make(target: Path) -> None:
        loop = target.with_name("loop.mp4")
        _encode_loop(media / SOURCE, loop)
        _repeat(loop, target, math.ceil(minutes))

    recipe = [SOURCE, (media / SOURCE).stat().st_size, LOOP_S, minutes, WIDTH, HEIGHT, FPS, X264]
    return _cached("bench", ".mp4", recipe, make)


def _cached(stem: str, suffix: str, recipe: list, make: Callable[[Path], None]) -> Path:
    """``eval/.cache/<stem>-<the recipe's hash><suffix>``, made by ``make(path)`` unless it is there already."""
    target = CACHE / f"{stem}-{hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]}{suffix}"
    if target.is_file():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        partial = Path(tmp) / f"out{suffix}"
        make(partial)
        partial.replace(target)
    return target


def _encode_loop(source: Path, out_path: Path) -> None:
    """The source's first minute at 1920x1080, H.264 high profile, with its AAC audio copied."""
    import av

    with av.open(str(source)) as src, av.open(str(out_path), "w") as out:
        video_in, audio_in = src.streams.video[0], src.streams.audio[0]
        video_out = out.add_stream("libx264", rate=FPS, options=X264)
        video_out.width, video_out.height, video_out.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio_out = out.add_stream_from_template(audio_in)
        for packet in src.demux(video_in, audio_in):
            if packet.pts is not None and packet.pts * packet.time_base >= LOOP_S:
                continue
            if packet.stream is audio_in:
                if packet.dts is not None:
                    packet.stream = audio_out
                    out.mux(packet)
                continue
            for frame in packet.decode():
                if frame.time >= LOOP_S:
                    continue
                scaled = frame.reformat(width=WIDTH, height=HEIGHT, format="yuv420p")
                scaled.pts, scaled.time_base = round(frame.time * FPS), Fraction(1, FPS)
                out.mux(video_out.encode(scaled))
        out.mux(video_out.encode(None))


PHONE = {"start_s": 22.5, "loop_s": 15.0, "copies": 10, "size": (3840, 2160), "fps": 60, "rotation": 90, "noise": 4}
X265 = {"preset": "ultrafast", "x265-params": "bitrate=45000:log-level=none"}  # a phone's bits: ~850 MB in all


def build_phone_video(media: Path) -> Path:
    """The phone benchmark video (cached by recipe)."""

    def make(target: Path) -> None:
        loop = target.with_name("loop.mov")
        _encode_phone_loop(media / SOURCE, loop)
        _repeat(loop, target, PHONE["copies"], PHONE["loop_s"])

    return _cached("phone", ".mov", [SOURCE, (media / SOURCE).stat().st_size, PHONE, X265], make)


def _encode_phone_loop(source: Path, out_path: Path) -> None:
    """``PHONE["loop_s"]`` of the source as a phone records HDR: HLG BT.2020, HEVC 10-bit, 4K60, turned."""
    import av
    import av.filter
    import numpy as np
    from av.video.reformatter import ColorPrimaries, Colorspace, ColorTrc

    width, height = PHONE["size"]
    fps, start, end = PHONE["fps"], PHONE["start_s"], PHONE["start_s"] + PHONE["loop_s"]
    with av.open(str(source)) as src, av.open(str(out_path), "w", format="mov") as out:
        video_in, audio_in = src.streams.video[0], src.streams.audio[0]
        video_out = out.add_stream("libx265", rate=fps, options=X265)
        video_out.width, video_out.height, video_out.pix_fmt = width, height, "yuv420p10le"
        codec = video_out.codec_context
        codec.color_trc, codec.color_primaries, codec.colorspace = (
            ColorTrc.ARIB_STD_B67,
            ColorPrimaries.BT2020,
            Colorspace.BT2020,
        )
        video_out.set_display_rotation(PHONE["rotation"])
        audio_out = out.add_stream("aac", rate=48000, layout="stereo")
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)
        graph = av.filter.Graph()
        chain = [
            graph.add(
                "buffer",
                f"video_size={video_in.width}x{video_in.height}:pix_fmt=yuv420p:time_base=1/30:"
                "colorspace=bt709:range=tv",
            ),
            graph.add(
                "scale",
                "in_transfer=bt709:in_primaries=bt709:out_transfer=arib-std-b67:"
                "out_primaries=bt2020:out_color_matrix=bt2020nc:out_range=tv",
            ),
            graph.add("format", "gbrp10le"),
            graph.add("buffersink"),
        ]
        for a, b in zip(chain, chain[1:]):
            a.link_to(b)
        graph.configure()
        previous, n = None, 0
        rng = np.random.default_rng(11)
        grain = [rng.normal(0, PHONE["noise"], (height, width)).astype(np.int32) for _ in range(7)]

        def emit(pixels) -> None:
            nonlocal n
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="gbrp10le")
            frame.color_trc, frame.color_primaries, frame.colorspace = (
                ColorTrc.ARIB_STD_B67,
                ColorPrimaries.BT2020,
                Colorspace.BT2020,
            )
            big = frame.reformat(width=width, height=height, format="yuv420p10le", dst_colorspace=Colorspace.BT2020)
            planes = big.to_ndarray().astype(np.int32)  # a sensor's noise on the luma, as a phone's file carries it
            planes[:height] += grain[n % len(grain)]
            big = av.VideoFrame.from_ndarray(np.clip(planes, 64, 940).astype(np.uint16), format="yuv420p10le")
            big.pts, big.time_base = n, Fraction(1, fps)
            big.color_trc, big.color_primaries, big.colorspace = (
                frame.color_trc,
                frame.color_primaries,
                frame.colorspace,
            )
            out.mux(video_out.encode(big))
            n += 1

        for frame in src.decode(video_in):
            if frame.time is None or frame.time < start:
                continue
            if frame.time >= end:
                break
            frame.color_trc, frame.color_primaries = ColorTrc.BT709, ColorPrimaries.BT709
            graph.push(frame)
            hlg = graph.pull().to_ndarray().astype(np.uint16)
            if previous is not None:  # the frame between two: their blend
                emit(((previous.astype(np.uint32) + hlg) // 2).astype(np.uint16))
            emit(hlg)
            previous = hlg
        out.mux(video_out.encode(None))
        src.seek(int(start / av.time_base))
        audio_pts = 0
        for frame in src.decode(audio_in):
            if frame.time is None or frame.time < start:
                continue
            if frame.time >= end:
                break
            for chunk in resampler.resample(frame):
                chunk.pts, chunk.time_base = audio_pts, Fraction(1, 48000)
                audio_pts += chunk.samples
                out.mux(audio_out.encode(chunk))
        out.mux(audio_out.encode(None))


def _repeat(loop: Path, out_path: Path, copies: int, loop_s: float = LOOP_S) -> None:
    """Concatenate copies of the ``loop_s`` seconds long ``loop`` (stream copy, each shifted by ``loop_s``)."""
    import av

    with av.open(str(out_path), "w", format="mov" if out_path.suffix == ".mov" else None) as out:
        outputs = {}
        for k in range(copies):
            with av.open(str(loop)) as src:
                if not outputs:
                    outputs = {s.index: out.add_stream_from_template(s) for s in src.streams}
                for packet in src.demux():
                    if packet.dts is None or (k and packet.pts < 0):  # later copies drop the AAC priming
                        continue
                    shift = round(k * loop_s / packet.time_base)
                    packet.pts += shift
                    packet.dts += shift
                    packet.stream = outputs[packet.stream.index]
                    out.mux(packet)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_s() -> float:
    """CPU seconds this process has used so far, on every core and thread."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure_decode(video: Path) -> dict:
    """(b): every frame decoded, nothing else."""
    import av

    started, cpu = time.perf_counter(), cpu_s()
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames = sum(1 for _ in container.decode(stream))
    return {"wall_s": time.perf_counter() - started, "cpu_s": cpu_s() - cpu, "frames": frames}


def measure_transcribe(video: Path) -> dict:
    """(c): the soundtrack decoded and transcribed, as the pipeline does it."""
    from heimdex.models.registry import get_registry
    from heimdex.pipeline.audio import decode_audio
    from heimdex.pipeline.transcribe import transcribe

    model = get_registry().get("asr")
    started, cpu = time.perf_counter(), cpu_s()
    language, segments = transcribe(decode_audio(video), model, None)
    return {
        "wall_s": time.perf_counter() - started,
        "cpu_s": cpu_s() - cpu,
        "segments": len(segments),
        "language": language,
    }


def measure_index(video: Path) -> dict:
    """(a): ingest untimed, then the whole indexing run into a throwaway data folder."""
    data = tempfile.mkdtemp(prefix="heimdex-bench-")
    os.environ["HEIMDEX_DATA_DIR"] = data
    os.environ.pop("DATABASE_URL", None)
    from heimdex.auth.users import create_user
    from heimdex.config import get_settings
    from heimdex.db import close_database, get_database
    from heimdex.jobs.runner import index_now
    from heimdex.library.ingest import ingest
    from heimdex.models.registry import get_registry
    from heimdex.storage import get_blob_store

    registry = get_registry()
    loading = time.perf_counter()
    for role in registry.specs:
        registry.get(role)
    load_s = time.perf_counter() - loading
    db, store = get_database(), get_blob_store(get_settings())
    user = create_user(db, "bench@example.com", "correct horse battery")
    with video.open("rb") as source:
        stored = ingest(db, store, get_settings(), user.id, source, video.name).video
    cpu = cpu_s()
    report = index_now(db, store, stored.id)
    cpu = cpu_s() - cpu
    close_database()
    return {
        "data_dir": data,  # removed by the parent once this child (and its embedded server) has stopped
        "wall_s": report.timings_s["total"],
        "cpu_s": cpu,
        "stages_s": report.timings_s,
        "scenes": len(report.index.scenes),
        "models_load_s": load_s,
        "keyframes": sum(len(s.keyframes) for s in report.index.scenes),
    }


MEASURES = {"decode": measure_decode, "transcribe": measure_transcribe, "index": measure_index}


def child_json(module: str, *args: str) -> dict:
    """``python -m module ARGS`` in a child process of its own (its peak RSS is its own): its last line, as JSON."""
    out = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{module} {' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_child(what: str, video: Path) -> dict:
    result = child_json("eval.bench_index", "--one", what, str(video))
    if "data_dir" in result:
        shutil.rmtree(result.pop("data_dir"), ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=MEDIA)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--phone", action="store_true", help="a phone's 2.5 minutes of 4K60 HEVC 10-bit HLG instead")
    parser.add_argument("--one", nargs=2, metavar=("WHAT", "VIDEO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        what, video = args.one
        result = MEASURES[what](Path(video))
        print(json.dumps({**result, "peak_rss_mb": peak_rss_mb()}))
        return
    if args.phone:
        phone(args.media)
        return

    started = time.perf_counter()
    video = build_video(args.media, args.minutes)
    print(
        f"video: {video.name}, {video.stat().st_size / 1e6:.0f} MB ({time.perf_counter() - started:.0f} s to build or find)"
    )
    decode = run_child("decode", video)
    speech = run_child("transcribe", video)
    index = run_child("index", video)
    duration = args.minutes * 60
    print(f"\ncpus: {os.cpu_count()}  video: {duration:.0f} s, {WIDTH}x{HEIGHT} {FPS} fps, {decode['frames']} frames")
    print(f"models loaded before timing: {index['models_load_s']:.1f} s")
    print("\n| stage | wall s |\n|---|---|")
    for stage, seconds in index["stages_s"].items():
        print(f"| {stage} | {seconds:.1f} |")
    ratio = index["wall_s"] / (decode["wall_s"] + speech["wall_s"])
    print(
        f"\n(a) index: {index['wall_s']:.1f} s, realtime factor {duration / index['wall_s']:.1f}x, "
        f"{index['scenes']} scenes, {index['keyframes']} keyframes, peak RSS {index['peak_rss_mb']:.0f} MB"
    )
    print(
        f"(b) decode only: {decode['wall_s']:.1f} s ({decode['frames'] / decode['wall_s']:.0f} fps), peak RSS {decode['peak_rss_mb']:.0f} MB"
    )
    print(
        f"(c) transcribe only: {speech['wall_s']:.1f} s ({speech['segments']} segments), peak RSS {speech['peak_rss_mb']:.0f} MB"
    )
    print(f"ratio total / (b + c): {ratio:.2f}   targets: total <= 80 s, ratio <= 1.2")
    _cpu_floor(index, {"decode only": decode, "transcribe only": speech})


def _cpu_floor(index: dict, alone: dict[str, dict]) -> None:
    """CPU seconds of each run, and the least wall time the index run's CPU work allows on this machine's cores."""
    cores = os.cpu_count() or 1
    parts = ", ".join(f"{name} {run['cpu_s']:.1f} s" for name, run in alone.items())
    print(
        f"CPU seconds: index {index['cpu_s']:.1f} s, {parts}; on {cores} cores the index run takes at least "
        f"{index['cpu_s'] / cores:.1f} s, however well its stages overlap"
    )


def phone(media: Path) -> None:
    started = time.perf_counter()
    video = build_phone_video(media)
    print(
        f"video: {video.name}, {video.stat().st_size / 1e6:.0f} MB ({time.perf_counter() - started:.0f} s to build or find)"
    )
    duration = PHONE["loop_s"] * PHONE["copies"]
    decode = run_child("decode", video)
    index = run_child("index", video)
    width, height = PHONE["size"]
    print(
        f"\ncpus: {os.cpu_count()}  video: {duration:.0f} s, {width}x{height} {PHONE['fps']} fps HEVC 10-bit HLG, "
        f"turned {PHONE['rotation']}, {decode['frames']} frames"
    )
    print("\n| stage | wall s |\n|---|---|")
    for stage, seconds in index["stages_s"].items():
        print(f"| {stage} | {seconds:.1f} |")
    print(
        f"\n(a) index: {index['wall_s']:.1f} s, {index['wall_s'] / duration:.2f} x its length "
        f"(realtime factor {duration / index['wall_s']:.2f}x), {index['scenes']} scenes, peak RSS {index['peak_rss_mb']:.0f} MB"
    )
    print(f"(b) decode only: {decode['wall_s']:.1f} s ({decode['frames'] / decode['wall_s']:.0f} fps)")
    print("target: index in no more than the video's length (2.5 minutes)")
    _cpu_floor(index, {"decode only": decode})


if __name__ == "__main__":
    main()
