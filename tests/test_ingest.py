import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from heimdex.errors import NotFound
from heimdex.library.ingest import ingest
from heimdex.library.media import MediaError
from heimdex.library.videos import get_video, list_videos
from helpers import snapshot

pytestmark = pytest.mark.integration


def upload(db, store, settings, user, path, filename=None, **kwargs):
    with path.open("rb") as source:
        return ingest(db, store, settings, user.id, source, filename or path.name, **kwargs)


def test_ingest_stores_the_file_and_a_row(db, store, settings, make_user, media):
    user = make_user()
    result = upload(db, store, settings, user, media / "car-detection.mp4", title="  Parking lot  ", language="EN")
    video = result.video
    assert result.created
    assert (video.title, video.filename, video.language, video.state) == (
        "Parking lot",
        "car-detection.mp4",
        "en",
        "uploaded",
    )
    assert video.has_audio and video.duration_s == pytest.approx(30.16, abs=0.1)
    with store.open(video.blob_key) as blob:
        assert blob.read() == (media / "car-detection.mp4").read_bytes()
    assert str(user.id) in video.blob_key and "car" not in video.blob_key  # no user text in keys
    assert get_video(db, user.id, video.id) == video


def test_identical_upload_returns_the_existing_video(db, store, settings, make_user, media):
    user, other = make_user(), make_user()
    first = upload(db, store, settings, user, media / "classroom.mp4")
    blobs = snapshot(db, store)["blobs"]
    again = upload(db, store, settings, user, media / "classroom.mp4", filename="renamed.mp4")
    assert not again.created and again.video.id == first.video.id
    assert snapshot(db, store)["blobs"] == blobs
    assert len(list_videos(db, user.id)) == 1
    # another user's identical file is theirs alone
    theirs = upload(db, store, settings, other, media / "classroom.mp4")
    assert theirs.created and theirs.video.id != first.video.id


def test_concurrent_identical_uploads_make_one_video(db, store, settings, make_user, media):
    user = make_user()
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(lambda _: upload(db, store, settings, user, media / "worker-zone-detection.mp4"), range(4))
        )
    assert len({r.video.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert len(list_videos(db, user.id)) == 1


def _truncated(media, tmp_path, name, size):
    path = tmp_path / f"truncated-{name}"
    path.write_bytes((media / name).read_bytes()[:size])
    return path


BAD_INPUTS = {
    # case: (how to build it from real media, expected code)
    "truncated mp4 (index at the end)": (lambda m, t: _truncated(m, t, "bottle-detection.mp4", 300_000), "unreadable"),
    "truncated mp4 (data cut short)": (lambda m, t: _truncated(m, t, "car-detection.mp4", 1_500_000), "unreadable"),
    "text renamed to .mp4": (
        lambda m, t: (t / "notes.mp4").write_text("meeting notes, not a video") and t / "notes.mp4",
        "not_media",
    ),
    "audio only": (lambda m, t: m / "jfk.flac", "no_video_stream"),
    "zero bytes": (lambda m, t: (t / "empty.mp4").write_bytes(b"") or t / "empty.mp4", "empty_file"),
    "longer than the limit": (lambda m, t: m / "car-detection.mp4", "too_long"),
    "larger than the limit": (lambda m, t: m / "one-by-one-person-detection.mp4", "too_large"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gets_its_code_and_changes_nothing(db, store, settings, make_user, media, tmp_path, case):
    build, code = BAD_INPUTS[case]
    path = build(media, tmp_path)
    limited = replace(settings, max_duration_s=25, max_upload_bytes=3_000_000)
    user = make_user()
    before = snapshot(db, store)
    with pytest.raises(MediaError) as caught:
        upload(db, store, limited, user, path)
    assert caught.value.code == code
    assert caught.value.exit_code == 2
    assert caught.value.message and "Traceback" not in caught.value.message
    assert snapshot(db, store) == before
    assert list(settings.tmp_dir.iterdir()) == []


@pytest.mark.parametrize("filename", ["../../etc/evil.mp4", "..\\..\\evil.mp4", "a/b.mp4", "bad\x00name.mp4", ".."])
def test_path_like_filenames_are_refused(db, store, settings, make_user, media, tmp_path, filename):
    user = make_user()
    before = snapshot(db, store)
    with pytest.raises(MediaError) as caught:
        upload(db, store, settings, user, media / "classroom.mp4", filename=filename)
    assert caught.value.code == "bad_filename"
    assert snapshot(db, store) == before
    assert not (settings.data_dir.parent / "etc").exists()


def test_upload_is_streamed_not_read_whole(db, store, settings, make_user, media):
    """The source is read in bounded chunks, never with one unbounded read()."""
    user = make_user()
    sizes = []

    class Recording(io.BufferedReader):
        def read(self, size=-1):
            sizes.append(size)
            return super().read(size)

    with Recording(io.FileIO(media / "store-aisle-detection.mp4")) as source:
        ingest(db, store, settings, user.id, source, "store-aisle-detection.mp4")
    assert sizes and all(0 < size <= 1024 * 1024 for size in sizes)


def test_unknown_user_is_refused(db, store, settings, media):
    ghost = type("Ghost", (), {"id": uuid.uuid4()})
    before = snapshot(db, store)
    with pytest.raises(NotFound) as caught:
        upload(db, store, settings, ghost, media / "classroom.mp4")
    assert caught.value.exit_code == 2
    assert snapshot(db, store) == before
