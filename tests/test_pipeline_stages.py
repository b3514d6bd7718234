"""The indexing stages one by one, on the shared media (no database needed)."""

from __future__ import annotations

import numpy as np
import pytest
from scenedetect import AdaptiveDetector, ContentDetector, ThresholdDetector, detect

from heimdex.pipeline.frames import scan_frames
from heimdex.pipeline.index import Shot
from heimdex.pipeline.keyframes import choose_keyframes, frame_quality
from heimdex.pipeline.scenes import MAX_SCENE_S, MIN_SCENE_S, build_scenes

pytestmark = pytest.mark.integration


def _reference_cuts(path, detector) -> list[float]:
    return [scene[0].seconds for scene in detect(str(path), detector, backend="pyav")[1:]]


def _cuts(shots: list[Shot]) -> list[float]:
    return [shot.start_s for shot in shots[1:]]


def _covers(spans, end_s: float) -> None:
    assert spans[0].start_s == 0
    assert all(a.end_s == b.start_s for a, b in zip(spans, spans[1:]))
    assert spans[-1].end_s == pytest.approx(end_s, abs=0.01)


def test_cuts_agree_with_pyscenedetect_on_vfr_video(media):
    path = media / "goldeneye-vfr-drop3.mp4"
    scan = scan_frames(path)
    reference = sorted(set(_reference_cuts(path, ContentDetector()) + _reference_cuts(path, AdaptiveDetector())))
    assert len(reference) >= 2
    ours = _cuts(scan.shots)
    assert len(ours) == len(reference)
    for mine, theirs in zip(ours, reference):
        assert mine == pytest.approx(theirs, abs=0.07)  # within a frame or so of the same timestamp
    _covers(scan.shots, scan.end_s)


def test_fades_are_shots_and_scenes(media):
    path = media / "fades.mp4"
    scan = scan_frames(path)
    fades = [shot for shot in scan.shots if shot.cut == "fade"]
    assert [shot.start_s for shot in fades] == pytest.approx(_reference_cuts(path, ThresholdDetector()), abs=0.07)
    assert len(fades) == 2
    scenes = build_scenes(scan.shots, [])
    assert len(scenes) == 3 and all(scene.length_s >= MIN_SCENE_S for scene in scenes)
    _covers(scenes, scan.end_s)


def test_counter_short_shot_joins_its_neighbour(media):
    scan = scan_frames(media / "counter.mp4")
    assert scan.frames >= 15 and scan.end_s == pytest.approx(3.0, abs=0.05)
    scenes = build_scenes(scan.shots, [])
    assert len(scenes) == 1  # the digits change at 2 s; a 1 s shot is too short to be a scene
    _covers(scenes, scan.end_s)


def test_video_without_cuts_gets_windows(media):
    scan = scan_frames(media / "one-by-one-person-detection.mp4")
    scenes = build_scenes(scan.shots, [])
    assert len(scenes) >= 7
    assert all(MIN_SCENE_S <= scene.length_s <= MAX_SCENE_S for scene in scenes)
    _covers(scenes, scan.end_s)


def test_keyframes_are_never_black_and_avoid_cuts(media):
    black = np.zeros((144, 256), np.uint8)
    assert frame_quality(black) == 0.0
    scan = scan_frames(media / "fades.mp4")
    cuts = _cuts(scan.shots)
    for scene in build_scenes(scan.shots, []):
        chosen = choose_keyframes(scene, scan.candidates, cuts)
        assert chosen, scene
        for keyframe in chosen:
            assert scene.start_s <= keyframe.t < scene.end_s
            assert all(abs(keyframe.t - cut) > 0.3 for cut in cuts)
            assert keyframe.image.mean() > 24  # not a black or faded-out frame


def test_text_that_stays_is_read_once_and_text_that_changes_is_read_again(registry, media):
    """subtitles_ko.mp4: a subtitle on screen at 2.5, 4 and 5.5 s is read once and taken over twice, as read; a
    copy with one syllable painted out, a frame without text and the next subtitle are each judged anew."""
    from heimdex.library.media import frame_at
    from heimdex.pipeline.ocr import TextMemory

    reader, memory, clip = registry.get("ocr"), TextMemory(), media / "subtitles_ko.mp4"
    first = memory.lines_on(frame_at(clip, 2.5), reader)
    assert [line.text for line in first] == ["오늘은 날씨가 정말 좋네요"]
    assert memory.lines_on(frame_at(clip, 4.0), reader) == first
    still = frame_at(clip, 5.5)
    assert memory.lines_on(still, reader) == first
    assert [line.text for line in reader.read(still)] == [line.text for line in first]  # read again: the same
    assert (memory.read, memory.carried) == (1, 2)

    left, top, right, bottom = first[0].box
    painted = still.copy()
    painted[top:bottom, right - (bottom - top) : right] = painted[top, right - (bottom - top)]  # the last syllable
    assert [line.text for line in memory.lines_on(painted, reader)] != ["오늘은 날씨가 정말 좋네요"]
    assert (memory.read, memory.carried) == (2, 2)
    assert memory.lines_on(frame_at(clip, 7.0), reader) == []
    assert [line.text.replace(" ", "") for line in memory.lines_on(frame_at(clip, 9.0), reader)] == [
        "안녕하세요여러분,반갑습니다"
    ]
    assert memory.carried == 2


@pytest.mark.parametrize("transfer", ["arib-std-b67", "smpte2084"])
def test_hdr_phone_footage_is_seen_and_copied_as_sdr(media, tmp_path, transfer):
    """A rotated HLG or PQ clip made from SDR footage: its keyframes and its playable copy come back upright within a
    few grey levels of that footage, where reading the HDR values as SDR is far off (washed out, or dark and flat)."""
    import av
    from forge import phone_hdr

    from heimdex.library.media import probe
    from heimdex.library.transcode import Proxy, upright

    clip = tmp_path / "phone.mov"
    originals = phone_hdr(clip, media / "walkthrough_en.mp4", transfer)
    rotation = probe(clip).rotation
    assert rotation in (90, 270)
    shown = [upright(frame, rotation).astype(int) for frame in originals]

    proxy = tmp_path / "proxy.mp4"
    writer = Proxy(clip, proxy, rotation)
    scan = scan_frames(clip, rotation, on_frame=writer.add)  # one decode: the copy is written from it
    assert writer.close() == len(originals)
    for keyframe in scan.candidates:
        truth = shown[min(len(shown) - 1, round(keyframe.t * 30))]
        assert keyframe.image.shape == truth.shape  # 360 wide, 640 tall: upright
        assert np.abs(keyframe.image.astype(int) - truth).mean() < 5, keyframe.t

    with av.open(str(proxy)) as copy:
        first = next(copy.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    assert first.shape == shown[0].shape and np.abs(first - shown[0]).mean() < 5
    with av.open(str(clip)) as source:
        raw = next(source.decode(video=0)).to_ndarray(format="rgb24").astype(int)  # the values read as SDR
    assert np.abs(upright(raw.astype(np.uint8), rotation).astype(int) - shown[0]).mean() > 10


def test_a_phones_variable_frame_rate_is_timed_by_each_frame(tmp_path):
    """A phone's HLG clip whose frame rate drops in the dark (30 fps for a second, then frames 1/20 to 1/10 s
    apart): each keyframe shows the frame that was on screen at its time, and the copy keeps every frame's time."""
    import av
    from forge import make, phone_hdr

    from heimdex.library.media import probe
    from heimdex.library.transcode import Proxy

    steps = [1 / 30] * 30 + [1 / 20, 1 / 15, 1 / 10] * 10
    times = [round(sum(steps[:i]), 4) for i in range(len(steps))]
    moving = make(tmp_path / "moving.mp4", size=(640, 360), frames=len(times), audio=None)  # a square, 3 px a frame
    clip = tmp_path / "dark.mov"
    phone_hdr(clip, moving, "arib-std-b67", rotation=0, times=times)
    assert probe(clip).is_vfr

    def square_at(image: np.ndarray) -> int:
        """The left edge of the bright square (forge's moving picture) on its rows."""
        band = image[130:200].astype(int).mean(axis=(0, 2))
        return int(np.argmax(band > 235))

    writer = Proxy(clip, tmp_path / "copy.mp4")
    scan = scan_frames(clip, on_frame=writer.add)
    assert writer.close() == len(times)  # never more than 30 a second: every frame is kept
    late = [c for c in scan.candidates if c.t > 1.2]
    assert len(late) >= 2 and scan.end_s > times[-1]
    for keyframe in scan.candidates:
        shown = max(i for i, t in enumerate(times) if t <= keyframe.t + 0.002)  # the frame on screen then
        assert min(abs(keyframe.t - t) for t in times) < 0.002
        assert abs(square_at(keyframe.image) - (shown * 3) % (640 - 90)) <= 2, keyframe.t
    with av.open(str(tmp_path / "copy.mp4")) as copy:
        copied = [float(frame.time) for frame in copy.decode(video=0)]
    assert copied == pytest.approx(times, abs=0.002)
