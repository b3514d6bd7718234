"""What people upload: phone HEVC, WebM, AV1, broadcast .ts, old .avi, GIFs, odd streams and sizes, damaged files.

Each is refused at upload with a sentence, or accepted and then indexed; a video browsers
cannot play gets a playable copy (H.264/AAC MP4) at indexing.
"""

from __future__ import annotations

import io

import av
import cv2
import numpy as np
import pytest
from forge import cut, make, scramble

from heimdex.jobs.runner import index_now
from heimdex.library.ingest import ingest
from heimdex.library.media import MediaError, plays_in_browsers
from heimdex.library.videos import get_video

pytestmark = pytest.mark.integration

X265 = {"preset": "ultrafast", "x265-params": "log-level=none"}
ACCEPTED = {  # file: (how to make it, container and codecs as stored, whether browsers play it as it is)
    "phone-hevc.mov": (dict(codec="libx265", container="mov", options=X265), ("mov", "hevc", "aac"), False),
    "clip-vp9.webm": (
        dict(codec="libvpx-vp9", container="webm", audio="libopus", options={"deadline": "realtime", "cpu-used": "8"}),
        ("matroska", "vp9", "opus"),
        False,
    ),
    "clip-av1.mp4": (
        dict(codec="libsvtav1", container="mp4", options={"preset": "12", "svtav1-params": "log-level=0"}),
        ("mov", "av1", "aac"),
        False,
    ),
    "broadcast.ts": (
        dict(codec="mpeg2video", container="mpegts", audio="mp2", b_frames=2),
        ("mpegts", "mpeg2video", "mp2"),
        False,
    ),
    "camera.avi": (
        dict(codec="mjpeg", container="avi", pix_fmt="yuvj420p", audio="pcm_s16le"),
        ("avi", "mjpeg", "pcm_s16le"),
        False,
    ),
    "reaction.gif": (dict(codec="gif", container="gif", pix_fmt="rgb8", audio=None), ("gif", "gif", None), False),
    "surround.mp4": (dict(channels="5.1"), ("mov", "h264", "aac"), True),
    "many-streams.mkv": (
        dict(container="matroska", video_streams=3, audio_streams=4),
        ("matroska", "h264", "aac"),
        False,
    ),
    "one-frame.mp4": (dict(frames=1), ("mov", "h264", "aac"), True),
    "tiny.mp4": (dict(size=(16, 16)), ("mov", "h264", "aac"), True),
}


@pytest.fixture(scope="module")
def forged(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forged")
    files = {name: make(folder / name, **recipe) for name, (recipe, _, _) in ACCEPTED.items()}
    whole = make(folder / "whole.mp4", frames=250, container_options={"movflags": "+faststart"})
    files["cut-at-97.mp4"] = cut(whole, folder / "cut-at-97.mp4", 0.97)  # plays in browsers up to the cut
    files["scrambled.mp4"] = scramble(whole, folder / "scrambled.mp4")  # 30 % of the middle is noise
    return files


def _ingest(db, store, settings, user, path):
    with path.open("rb") as source:
        return ingest(db, store, settings, user.id, source, path.name).video


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_formats_are_described_truly(name, forged, db, store, settings, make_user):
    video = _ingest(db, store, settings, make_user("format"), forged[name])
    _, (container, codec, sound), playable = ACCEPTED[name]
    assert (video.container, video.video_codec, video.audio_codec) == (container, codec, sound)  # av1, never libdav1d
    assert not video.is_vfr  # a .ts of even frames is not variable frame rate
    assert plays_in_browsers(video.container, video.video_codec, video.audio_codec) is playable


def test_pictures_and_huge_frames_are_refused_in_words(db, store, settings, make_user, media, tmp_path):
    user = make_user("refused")
    photo = tmp_path / "holiday.jpg"
    cv2.imwrite(str(photo), np.full((120, 160, 3), 128, np.uint8))
    with pytest.raises(MediaError) as refused:
        _ingest(db, store, settings, user, photo)
    assert (
        refused.value.code == "picture_file"
        and refused.value.message == "This is a picture, not a video; upload a video file."
    )
    huge = make(tmp_path / "huge.mp4", size=(8000, 8000), frames=2, options={"preset": "ultrafast"})
    with pytest.raises(MediaError) as refused:
        _ingest(db, store, settings, user, huge)
    assert refused.value.code == "too_many_pixels" and "8000x8000" in refused.value.message


def _decodes_as_h264(store, key) -> int:
    with store.open(key) as blob, av.open(blob) as copy:
        assert copy.streams.video[0].codec_context.name == "h264"
        assert not copy.streams.audio or copy.streams.audio[0].codec_context.name == "aac"
        return sum(1 for _ in copy.decode(video=0))


@pytest.mark.parametrize(
    "name",
    [
        "phone-hevc.mov",
        "clip-vp9.webm",
        "clip-av1.mp4",
        "broadcast.ts",
        "camera.avi",
        "reaction.gif",
        "many-streams.mkv",
        "one-frame.mp4",
        "tiny.mp4",
        "surround.mp4",
        "cut-at-97.mp4",
        "scrambled.mp4",
    ],
)
def test_every_accepted_file_indexes_and_plays(name, forged, db, store, settings, make_user):
    """Indexing reads what decodes (damaged packets skipped); what browsers cannot play gets an H.264/AAC copy."""
    video = _ingest(db, store, settings, make_user("index"), forged[name])
    report = index_now(db, store, video.id)
    indexed = get_video(db, video.user_id, video.id)
    assert indexed.state == "indexed" and report.index.scenes
    if plays_in_browsers(video.container, video.video_codec, video.audio_codec):
        assert indexed.proxy_key is None
    else:
        assert indexed.proxy_key and _decodes_as_h264(store, indexed.proxy_key) >= 1
    if name == "scrambled.mp4":  # the picture after the damage is read again where it decodes
        assert report.index.scenes[-1].end_s > 5.0


def test_media_and_clips_serve_what_browsers_play(forged, db, store, settings, make_user):
    """/media sends the file's real type, and the playable copy once it exists; /clip cuts from that copy."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from heimdex.app.links import Purpose, secret, sign
    from heimdex.app.web import add_routes
    from heimdex.auth.sessions import session_user, start_session

    routes = TestClient(add_routes(FastAPI()))
    user = make_user("media")
    phone = _ingest(db, store, settings, user, forged["phone-hevc.mov"])
    gif = _ingest(db, store, settings, user, forged["reaction.gif"])
    webm = _ingest(db, store, settings, user, forged["clip-vp9.webm"])
    session = session_user(db, start_session(db, user.id)).session_id

    def link(video, purpose=Purpose.MEDIA, scope=""):
        return sign(secret(), purpose, user.id, video.id, session, scope)

    assert routes.get(f"/media/{webm.id}?{link(webm)}").headers["content-type"] == "video/webm"
    assert routes.get(f"/media/{gif.id}?{link(gif)}").headers["content-type"] == "image/gif"
    refused = routes.get(f"/clip/{gif.id}?{link(gif, Purpose.CLIP, '0-2')}&start=0&end=2")  # no playable copy yet
    assert refused.status_code == 409 and "once it is indexed" in refused.json()["detail"]
    assert not list(settings.tmp_dir.glob("clip-*"))
    index_now(db, store, phone.id)
    played = routes.get(f"/media/{phone.id}?{link(phone)}")
    assert played.status_code == 200 and played.headers["content-type"] == "video/mp4"
    with av.open(io.BytesIO(played.content)) as copy:
        assert copy.streams.video[0].codec_context.name == "h264"
    clip = routes.get(f"/clip/{phone.id}?{link(phone, Purpose.CLIP, '0.5-2')}&start=0.5&end=2")
    assert clip.status_code == 200 and clip.content[4:8] == b"ftyp"
    with av.open(io.BytesIO(clip.content)) as cut_out:
        assert cut_out.streams.video[0].codec_context.name == "h264"


def test_sound_that_runs_past_the_picture_is_indexed_to_its_end(db, store, settings, make_user, media, tmp_path):
    """A picture that stops at 4 s under 11 s of speech (some phones record so) is a whole file: accepted at the
    sound's length, its words indexed in scenes that reach them (the last picture held), and found by search."""
    from forge import speaking

    from heimdex.search import search

    path = speaking(tmp_path / "picture-stops.mp4", media / "jfk.flac", seconds=11.0, picture_s=4.0)
    user = make_user("tail")
    video = _ingest(db, store, settings, user, path)
    assert video.duration_s == pytest.approx(11.0, abs=0.3)
    scenes = index_now(db, store, video.id).index.scenes
    assert scenes[-1].end_s == pytest.approx(11.0, abs=0.3) and all(scene.keyframes for scene in scenes)
    late = [(w, s) for s in scenes for w in s.words if w.start > 4.5]
    assert len(late) >= 10  # "... your country can do for you, ask what you can do for your country"
    assert all(s.start_s <= (w.start + w.end) / 2 <= s.end_s for w, s in late)
    found = search(db, user.id, "ask what you can do for your country").moments
    assert found and found[0].end_s > 8.0, found[:1]  # the passage runs on past the picture, to its last words


class _Watch:
    """Events that remember every (stages, fraction) the run tells."""

    def __init__(self):
        self.told: list[tuple[str, float]] = []

    def progress(self, stage: str, fraction: float) -> None:
        self.told.append((stage, fraction))

    def stop_requested(self) -> bool:
        return False


def test_the_bar_rises_with_the_copy_and_does_not_jump_when_it_is_stored(db, store, settings, make_user, tmp_path):
    """The copy's pictures are encoded while the frames are scanned, so that is where the bar moves for them."""
    silent = make(tmp_path / "silent-phone.mov", codec="libx265", container="mov", audio=None, options=X265)
    video = _ingest(db, store, settings, make_user("bar"), silent)
    watch = _Watch()
    index_now(db, store, video.id, watch=watch)
    assert get_video(db, video.user_id, video.id).proxy_key
    stages = [stage for stage, _ in watch.told]
    fractions = [fraction for _, fraction in watch.told]
    assert fractions == sorted(fractions) and fractions[-1] == 1
    first, last = stages.index("proxy"), len(stages) - 1 - stages[::-1].index("proxy")
    before, after = fractions[first - 1], fractions[last + 1]  # the frames scanned (nothing ran beside: no sound)
    assert after - before <= 0.15 * before, watch.told  # storing the copy is a small step after the scan's share
