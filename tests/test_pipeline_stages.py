"""The indexing stages one by one, on the shared media (no database needed)."""

from __future__ import annotations

import numpy as np
import pytest
from scenedetect import AdaptiveDetector, ContentDetector, ThresholdDetector, detect

from heimdex.pipeline.align import align_words
from heimdex.pipeline.frames import scan_frames
from heimdex.pipeline.index import Shot, Span, Word
from heimdex.pipeline.keyframes import choose_keyframes, frame_quality
from heimdex.pipeline.scenes import MAX_SCENE_S, MIN_SCENE_S, build_scenes


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


def test_long_shots_split_at_speech_pauses():
    words = [Word(f"w{i}", i * 0.5, i * 0.5 + 0.4) for i in range(100)]  # 50 s of steady speech ...
    words = [w for w in words if not 15.0 <= w.s < 16.5]  # ... with one pause, 14.9-16.5 s, near the first window edge
    scenes = build_scenes([Shot(0.0, 50.0, "start")], words)
    assert len(scenes) == 3
    assert scenes[0].end_s == pytest.approx((14.9 + 16.5) / 2)
    for scene in scenes[1:]:  # no pause near the other window edge: the cut avoids the middle of a word
        assert not any(w.s < scene.start_s < w.e for w in words)


def test_short_shots_merge_and_everything_stays_covered():
    shots = [Shot(0.0, 5.0, "start"), Shot(5.0, 5.4, "cut"), Shot(5.4, 12.0, "cut"), Shot(12.0, 13.0, "cut")]
    scenes = build_scenes(shots, [])
    assert [(s.start_s, s.end_s) for s in scenes] == [(0.0, 5.4), (5.4, 13.0)]


def test_words_go_to_the_scene_holding_their_midpoint():
    scenes = [Span(0.0, 10.0), Span(10.0, 20.0)]
    sentence = [Word("ask", 9.0, 9.5), Word("not", 9.9, 10.4), Word("what", 10.3, 10.6), Word("you", 19.9, 20.5)]
    first, second = align_words(scenes, sentence)
    assert [w.w for w in first] == ["ask"]
    assert [w.w for w in second] == ["not", "what", "you"]  # split at the cut, nothing lost, times kept
    assert second[0].s == 9.9


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
