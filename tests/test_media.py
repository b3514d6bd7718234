import pytest

from heimdex.library.media import MediaError, probe, validate

pytestmark = pytest.mark.integration

VIDEOS = {
    # name: (width, height, has_audio, is_vfr, approximate duration)
    "car-detection.mp4": (768, 432, True, False, 30.2),
    "goldeneye-vfr-drop3.mp4": (1280, 544, False, True, 10.0),
    "walkthrough_en.mp4": (1280, 720, True, False, 72.0),
    "subtitles_ko.mp4": (768, 432, False, False, 24.0),
    "counter.mp4": (1920, 1080, False, False, 3.0),
    "fades.mp4": (480, 320, False, False, 10.0),
}
AUDIO_ONLY = {"jfk.flac", "multilingual.mp3", "hotwords.mp3"}


def test_every_shared_file_probes(media):
    files = sorted(p for p in media.iterdir() if p.suffix in {".mp4", ".mp3", ".flac"})
    assert len(files) >= 20
    for path in files:
        if path.name in AUDIO_ONLY:
            with pytest.raises(MediaError) as caught:
                probe(path)
            assert caught.value.code == "no_video_stream"
            continue
        info = probe(path)
        assert info.duration_s > 0 and info.width > 0 and info.height > 0, path.name
        assert info.video_codec in {"h264", "mpeg4"}, path.name
        assert info.size_bytes == path.stat().st_size
        assert info.fps and 5 <= info.fps <= 60, path.name


@pytest.mark.parametrize("name", sorted(VIDEOS))
def test_probe_reads_streams(media, name):
    width, height, has_audio, is_vfr, duration = VIDEOS[name]
    info = probe(media / name)
    assert (info.width, info.height, info.has_audio, info.is_vfr) == (width, height, has_audio, is_vfr)
    assert info.duration_s == pytest.approx(duration, abs=0.3)
    assert info.rotation == 0
    assert (info.audio_codec == "aac") == has_audio


def test_limits(media):
    info = probe(media / "walkthrough_en.mp4")
    validate(info, max_duration_s=600, max_bytes=1024**3)
    with pytest.raises(MediaError) as too_long:
        validate(info, max_duration_s=60, max_bytes=1024**3)
    assert too_long.value.code == "too_long" and "1:12" in too_long.value.message
    with pytest.raises(MediaError) as too_large:
        validate(info, max_duration_s=600, max_bytes=1024**2)
    assert too_large.value.code == "too_large" and "1.0 MB" in too_large.value.message


def test_a_stuck_probe_is_stopped(media):
    with pytest.raises(MediaError) as caught:
        probe(media / "car-detection.mp4", timeout_s=0.01)
    assert caught.value.code == "probe_timeout"


def test_the_probe_reads_this_heimdex_from_any_folder(media, tmp_path, monkeypatch):
    """The probe's child process imports the same package from anywhere (a notebook's folder, a worker's)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYTHONPATH", raising=False)
    assert probe(media / "walkthrough_en.mp4").duration_s > 0
