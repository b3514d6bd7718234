"""Issue 27, privacy round 3: what a file or a request claims is never believed (in this process).

Each test names the point of the issue it keeps closed.
"""

from __future__ import annotations

import struct
import uuid
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

pytestmark = pytest.mark.integration


def _lying_mkv(path: Path, seconds: int, claimed_s: float) -> Path:
    """An MKV with ``seconds`` of frames (1 fps) whose header says it lasts ``claimed_s``."""
    with av.open(str(path), "w", format="matroska") as out:
        stream = out.add_stream("libx264", rate=1)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(seconds):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i % 250, np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 1)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    data = bytearray(path.read_bytes())
    at = data.index(b"\x44\x89\x88")  # Segment Info's Duration, a float64 in milliseconds
    data[at + 3 : at + 11] = struct.pack(">d", claimed_s * 1000)
    path.write_bytes(bytes(data))
    with av.open(str(path)) as check:
        assert abs(check.duration / 1e6 - claimed_s) < 0.01  # the header lies as meant
    return path


def test_4_the_length_limit_holds_on_timestamps_not_on_the_header(db, store, settings, make_user, tmp_path):
    from heimdex.library.ingest import ingest
    from heimdex.library.media import MediaError
    from heimdex.library.quotas import usage
    from heimdex.pipeline.frames import scan_frames

    user = make_user("long")
    long = _lying_mkv(tmp_path / "half-an-hour.mkv", 1800, 10.0)
    with long.open("rb") as source, pytest.raises(MediaError) as refused:
        ingest(db, store, settings, user.id, source, long.name)
    assert refused.value.code == "too_long" and refused.value.message == "The video is 30:00 long; the limit is 10:00."

    minute = _lying_mkv(tmp_path / "a-minute.mkv", 60, 10.0)
    with minute.open("rb") as source:
        video = ingest(db, store, settings, user.id, source, minute.name).video
    assert 59.0 <= video.duration_s <= 61.0  # the quota counts the minute, not the header's 10 s
    assert usage(db, user.id, "free").minutes == pytest.approx(video.duration_s / 60)
    with pytest.raises(MediaError) as stopped:  # decoding stops at the length the upload was accepted for
        scan_frames(minute, limit_s=10.0)
    assert stopped.value.code == "too_long"
    assert scan_frames(minute, limit_s=video.duration_s).end_s == pytest.approx(60.0, abs=1.1)


def _png_bomb(path: Path, width: int, height: int) -> Path:
    """A valid grey PNG of ``width``×``height`` zeros: a few hundred kB that decode into hundreds of MB."""
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte, then the row
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


def test_6_a_photo_is_measured_by_its_header_before_it_is_decoded(tmp_path):
    import resource

    from heimdex.errors import BadInput
    from heimdex.library.people.manage import read_photo

    for width, height in ((13000, 7000), (20000, 10000)):
        bomb = _png_bomb(tmp_path / f"bomb-{width}.png", width, height)
        assert bomb.stat().st_size < 1 << 20
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with pytest.raises(BadInput) as refused:
            read_photo(bomb)
        assert refused.value.code == "photo_too_large"
        assert refused.value.message == f"{bomb.name} has more than 50 megapixels; use a smaller photo."
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        assert grown_mb < 100, grown_mb  # decoding it would take 270 MB or more
    fine = _png_bomb(tmp_path / "fine.png", 800, 600)
    assert read_photo(fine).shape == (600, 800, 3)


def test_9_a_quota_holds_when_uploads_race(db, store, settings, make_user, tmp_path, monkeypatch):
    """Eight uploads at once against a quota of three videos: exactly three are kept, the others refused."""
    import threading

    from forge import make

    from heimdex.library import quotas
    from heimdex.library.ingest import ingest

    monkeypatch.setattr(quotas, "tier_limits", lambda tier: (3, 600.0))
    files = [make(tmp_path / f"race-{i}.mp4", frames=20 + i, audio=None) for i in range(8)]
    user = make_user("race")
    start, outcomes = threading.Barrier(8), []

    def upload(path: Path) -> None:
        start.wait()
        try:
            with path.open("rb") as source:
                ingest(
                    db,
                    store,
                    settings,
                    user.id,
                    source,
                    path.name,
                    admit=lambda conn, info: quotas.check_room(conn, user.id, "free", info.duration_s),
                )
            outcomes.append("kept")
        except quotas.QuotaExceeded as refused:
            outcomes.append(refused.code)

    threads = [threading.Thread(target=upload, args=(path,)) for path in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["kept"] * 3 + ["quota_videos"] * 5
    assert quotas.usage(db, user.id, "free").videos == 3
    assert len([k for k in store.keys() if f"u/{user.id}/" in k]) == 3  # the refused left no blob


def test_a_door_that_refuses_an_upload_deletes_the_callers_file_and_no_one_elses(db, make_user, monkeypatch):
    """The upload door counts the rate limit before the action; refused there, the caller's pending upload is
    deleted as a refused upload always was, and a file of another user named in the same call stays."""
    from heimdex.app import service
    from heimdex.app.handoff import get_handoff
    from heimdex.auth.sessions import start_session
    from heimdex.errors import BadInput
    from heimdex.library import quotas

    handoff = get_handoff()
    caller, other = make_user("door"), make_user("other")
    mine, theirs = handoff.root / f"door-{uuid.uuid4().hex}", handoff.root / f"door-{uuid.uuid4().hex}"
    for path, user in ((mine, caller), (theirs, other)):
        path.mkdir(parents=True)
        (path / "clip.mp4").write_bytes(b"\0" * 1000)
        handoff.record_upload(user.id, [str(path / "clip.mp4")])
    monkeypatch.setitem(quotas.LIMITS, "upload", (0, 3600))
    token = start_session(db, caller.id)
    for named in (mine, theirs):
        with pytest.raises(BadInput) as refused:
            service.upload(token, {"path": str(named / "clip.mp4")}, "", "auto")
        assert refused.value.code == "rate_limited"
    assert not (mine / "clip.mp4").exists() and (theirs / "clip.mp4").exists()
    assert handoff.pending_bytes(caller.id) == 0 and handoff.pending_bytes(other.id) == 1000
    handoff.release(theirs / "clip.mp4")
