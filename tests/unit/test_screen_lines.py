"""When an on-screen line shows, pure: a line is followed through the scene's frames of every second by its strokes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from heimdex.pipeline.commit import dated_lines
from heimdex.pipeline.index import OcrLine, Scene
from heimdex.pipeline.keyframes import Candidate
from heimdex.pipeline.ocr import _dated, _Greys

pytestmark = pytest.mark.unit

BOX = (40, 60, 200, 110)  # left, top, right, bottom of the text on the frame


def frame(t: float, text: str | None, background: int = 90) -> Candidate:
    """A 320x180 frame at ``t`` on a plain background, with ``text`` written in the box (or nothing)."""
    image = np.full((180, 320, 3), background, np.uint8)
    cv2.rectangle(image, (0, 140), (320, 180), (30, 160, 30), -1)  # something else in the picture
    if text:
        cv2.putText(image, text, (BOX[0] + 4, BOX[3] - 12), cv2.FONT_HERSHEY_SIMPLEX, 1.3, (250, 250, 250), 3)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert ok
    return Candidate(t, 1.0, jpeg.tobytes(), np.zeros((36, 64), np.uint8))


def test_a_line_is_dated_from_the_first_to_the_last_frame_that_shows_it():
    frames = [frame(t, "EXIT" if 3 <= t <= 6 else None) for t in range(10)]
    line = OcrLine("EXIT", 0.9, BOX, 4.0, "test")
    dated = _dated(line, frames[4], _Greys(frames))
    assert (dated.first_s, dated.last_s) == (3.0, 6.0)


def test_a_line_stays_dated_while_the_picture_behind_it_changes_and_ends_when_another_replaces_it():
    frames = [frame(0, None), frame(1, "EXIT", 60), frame(2, "EXIT", 120), frame(3, "EXIT", 160), frame(4, "OPEN")]
    dated = _dated(OcrLine("EXIT", 0.9, BOX, 2.0, "test"), frames[2], _Greys(frames))
    assert (dated.first_s, dated.last_s) == (1.0, 3.0)


def test_a_line_with_no_strokes_to_follow_keeps_its_keyframe_time():
    frames = [frame(t, None) for t in range(5)]
    dated = _dated(OcrLine("", 0.9, BOX, 2.0, "test"), frames[2], _Greys(frames))
    assert (dated.first_s, dated.last_s) == (2.0, 2.0)
    assert _dated(OcrLine("EXIT", 0.9, BOX, 2.0, "test"), frame(2, "EXIT"), _Greys([])).first_s == 2.0  # no frames


def test_the_scene_keeps_its_lines_only_when_every_one_is_dated():
    dated = Scene(0, 0.0, 10.0, ocr=[OcrLine("EXIT", 0.9, BOX, 4.0, "test", 3.0, 6.0)])
    assert dated_lines(dated) == [{"text": "EXIT", "s": 3.0, "e": 6.0}]
    old = Scene(0, 0.0, 10.0, ocr=[*dated.ocr, OcrLine("OPEN", 0.9, BOX, 8.0, "test")])  # from an older sidecar
    assert dated_lines(old) == []  # the scene, not the keyframe a line was read on, is where it starts
