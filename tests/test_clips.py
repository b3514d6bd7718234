"""Clips hold their range and nothing before it: a public link's clip and the owner's download alike."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

pytestmark = pytest.mark.integration

SECONDS, FPS = 60, 10


BITS = 10  # 600 frames, each showing its number in binary: ten stripes, black or white


def _picture(i: int) -> np.ndarray:
    stripes = np.array([235 if i >> bit & 1 else 16 for bit in range(BITS)], np.uint8)
    return np.repeat(np.repeat(stripes, 16)[None, :], 120, 0)[:, :, None].repeat(3, 2)


def _time_of(frame: av.VideoFrame) -> float:
    """The source time a frame shows (its number read back from the stripes)."""
    grey = frame.to_ndarray(format="gray").astype(float)
    scale = grey.shape[1] / (16 * BITS)
    bits = [grey[:, int(bit * 16 * scale) : int((bit + 1) * 16 * scale)].mean() > 125 for bit in range(BITS)]
    return sum(1 << bit for bit, on in enumerate(bits) if on) / FPS


@pytest.fixture(scope="module")
def one_keyframe(tmp_path_factory) -> Path:
    """60 s at 10 fps whose only keyframe is the first (x264 keyint=infinite), each frame showing its number."""
    path = tmp_path_factory.mktemp("clips") / "one-keyframe.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"x264-params": "keyint=infinite:scenecut=0"})
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i in range(SECONDS * FPS):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(_picture(i)), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with av.open(str(path)) as check:
        keyframes = [p for p in check.demux(check.streams.video[0]) if p.is_keyframe]
    assert len(keyframes) == 1  # a copy of packets could only start at 0:00
    return path


def _frames(data: bytes) -> list[tuple[float, float]]:
    """(time in the clip, time in the source read from the picture) of every frame."""
    with av.open(io.BytesIO(data)) as clip:
        return [(float(f.time or 0.0), _time_of(f)) for f in clip.decode(video=0)]


def _holds_only(data: bytes, start_s: float, end_s: float) -> None:
    frames = _frames(data)
    assert frames, "the clip has no picture"
    shown = [source for _, source in frames]
    assert min(shown) >= start_s - 0.3 and max(shown) <= end_s + 0.3, (min(shown), max(shown))
    assert frames[0][0] < 0.2 and abs(frames[-1][0] - (end_s - start_s)) < 0.3  # it starts at 0 and lasts the range


def test_a_public_clip_and_a_download_hold_only_their_range(db, store, settings, make_user, one_keyframe):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from heimdex.app.links import Purpose, secret, sign
    from heimdex.app.web import add_routes
    from heimdex.auth.sessions import session_user, start_session
    from heimdex.library import public
    from heimdex.library.ingest import ingest

    user = make_user("clips")
    with one_keyframe.open("rb") as source:
        video = ingest(db, store, settings, user.id, source, one_keyframe.name).video
    clip = public.publish(db, store, settings.tmp_dir, video, 50.0, 55.0)
    with store.open(clip.blob_key) as blob:
        _holds_only(blob.read(), 50.0, 55.0)
    assert clip.as_dict(secret())["start_s"] == 50.0

    routes = TestClient(add_routes(FastAPI()))
    session = session_user(db, start_session(db, user.id)).session_id
    signed = sign(secret(), Purpose.CLIP, user.id, video.id, session, "30.5-33")
    answer = routes.get(f"/clip/{video.id}?{signed}&start=30.5&end=33")
    assert answer.status_code == 200
    _holds_only(answer.content, 30.5, 33.0)


def test_public_clips_of_a_user_hold_a_bounded_number_of_bytes(db, store, settings, make_user, one_keyframe):
    from heimdex.errors import BadInput
    from heimdex.library import public
    from heimdex.library.ingest import ingest

    user = make_user("clip-bytes")
    with one_keyframe.open("rb") as source:
        video = ingest(db, store, settings, user.id, source, one_keyframe.name).video
    first = public.publish(db, store, settings.tmp_dir, video, 0.0, 20.0)
    with db.transaction() as conn:
        held = conn.execute("SELECT bytes FROM public_clips WHERE id = %s", (first.id,)).fetchone()["bytes"]
    with store.open(first.blob_key) as blob:
        assert held == len(blob.read()) > 0
    bound, public.MAX_BYTES_PER_USER = public.MAX_BYTES_PER_USER, held + held // 2
    try:
        with pytest.raises(BadInput, match="turn one off first") as refused:
            public.publish(db, store, settings.tmp_dir, video, 20.0, 40.0)
        assert refused.value.code == "too_many_bytes"
        assert [c.id for c in public.listed(db, user.id)] == [first.id]  # nothing kept of the refused one
        assert len([k for k in store.keys() if "/public/" in k and str(video.id) in k]) == 1
        public.unpublish(db, store, user.id, first.id)
        public.publish(db, store, settings.tmp_dir, video, 20.0, 40.0)  # room again
    finally:
        public.MAX_BYTES_PER_USER = bound
