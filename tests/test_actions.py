"""What people do: the action rules on body sequences built here (no shared clip shows waving, clapping or
pointing), one person beside another, and the query words that ask for them."""

from __future__ import annotations

import numpy as np
import pytest

from heimdex.models.types import ANKLE, ELBOW, HIP, INDEX, KNEE, NOSE, PINKY, SHOULDER, WRIST, Body, Hand
from heimdex.perception.actions import Glimpse, track_actions
from heimdex.search.query import parse_query

pytestmark = pytest.mark.unit

FACE = 40  # px: face height of the people built here


def person(x: float, y: float = 100.0, **moved: tuple[float, float]) -> dict[int, tuple[float, float]]:
    """A standing person facing the camera, face centred at (x, y), in face heights; ``moved`` puts points elsewhere
    (keys like ``WRIST_1``: the person's right wrist)."""
    u = FACE
    pts = {
        NOSE: (0, 0),
        SHOULDER[0]: (1.0, 1.2), SHOULDER[1]: (-1.0, 1.2),
        ELBOW[0]: (1.2, 2.6), ELBOW[1]: (-1.2, 2.6),
        WRIST[0]: (1.3, 3.9), WRIST[1]: (-1.3, 3.9),
        INDEX[0]: (1.35, 4.3), INDEX[1]: (-1.35, 4.3),
        PINKY[0]: (1.25, 4.3), PINKY[1]: (-1.25, 4.3),
        HIP[0]: (0.6, 4.2), HIP[1]: (-0.6, 4.2),
        KNEE[0]: (0.6, 6.1), KNEE[1]: (-0.6, 6.1),
        ANKLE[0]: (0.6, 8.0), ANKLE[1]: (-0.6, 8.0),
    }  # fmt: skip
    for name, where in moved.items():
        part, side = name.rsplit("_", 1)
        pts[globals()[part][int(side)]] = where
    return {i: (x + dx * u, y + dy * u) for i, (dx, dy) in pts.items()}


def glimpse(t: float, points: dict[int, tuple[float, float]], hands=(None, None), sad: float = 0.0, score=0.9):
    body = np.zeros((33, 2), np.float32)
    visible = np.zeros(33, np.float32)
    for i, p in points.items():
        body[i], visible[i] = p, 1.0
    cx, cy = points[NOSE]
    face = (int(cx - FACE * 0.4), int(cy - FACE / 2), int(cx + FACE * 0.4), int(cy + FACE / 2))
    return Glimpse(t, face, score, Body(body, visible, 0.99), hands, sad)


def tags(track, others=()) -> set[str]:
    return {tag.tag for tag in track_actions(track, list(others))}


def test_the_person_waving_is_tagged_waving_and_the_one_beside_them_is_not():
    # the right hand up above the shoulder, at a different place each second: waving
    waver = [
        glimpse(t, person(200, WRIST_1=(-1.0 + swing, -0.5), ELBOW_1=(-1.4, 0.6)))
        for t, swing in ((0, 0.0), (1, -0.8), (2, 0.1), (3, -0.7))
    ]
    beside = [glimpse(t, person(420)) for t in range(4)]  # stands still, arms down
    assert "waving" in tags(waver, [beside])
    assert "waving" not in tags(beside, [waver]) and "raising a hand" not in tags(beside, [waver])
    assert tags(beside, [waver]) == {"standing"}
    source = next(t for t in track_actions(waver, [beside]) if t.tag == "waving")
    assert source.source.startswith("pose") and 0.5 <= source.confidence <= 0.9


def test_a_hand_held_up_still_is_raised_not_waving():
    raised = [glimpse(t, person(200, WRIST_0=(1.1, -1.0), ELBOW_0=(1.3, 0.3))) for t in range(3)]
    assert {"raising a hand"} <= tags(raised) and "waving" not in tags(raised)


def test_clapping_needs_hands_that_meet_and_part():
    meet = {"WRIST_0": (0.1, 2.8), "WRIST_1": (-0.1, 2.8)}
    apart = {"WRIST_0": (1.0, 2.7), "WRIST_1": (-1.0, 2.7)}
    assert "clapping" in tags([glimpse(0, person(200, **meet)), glimpse(1, person(200, **apart))])
    held = [glimpse(t, person(200, **meet)) for t in range(3)]  # hands held together: not clapping
    assert "clapping" not in tags(held)


def _hand(wrist: tuple[float, float], pointing: bool) -> Hand:
    """A right hand, fingers up from ``wrist`` (px): the index out, the rest folded when ``pointing``."""
    x, y = wrist
    points = np.zeros((21, 2), np.float32)
    points[0] = (x, y)
    for finger, knuckle in enumerate((1, 5, 9, 13, 17)):
        dx = (finger - 2) * 6
        points[knuckle] = (x + dx, y - 20)
        out = pointing and knuckle == 5 or not pointing
        for j in (1, 2, 3):
            points[knuckle + j] = (x + dx, y - 20 - j * 12) if out else (x + dx, y - 20 + j * 4)
    return Hand(points, 0.95)


def test_pointing_comes_from_the_hand():
    p = person(200, WRIST_1=(-2.5, 1.3), ELBOW_1=(-1.8, 1.25))
    wrist = p[WRIST[1]]
    assert "pointing" in tags([glimpse(0, p, hands=(None, _hand(wrist, True)))])
    assert "pointing" not in tags([glimpse(0, p, hands=(None, _hand(wrist, False)))])  # an open hand


def test_hands_over_the_face_and_crying():
    face_centre = (200.0, 100.0)
    over = (None, _hand((face_centre[0], face_centre[1] + 15), False))
    covering = [glimpse(t, person(200, WRIST_1=(0.0, 0.4)), hands=over, sad=0.7) for t in range(2)]
    assert {"covering face", "crying"} <= tags(covering)
    smiling = [glimpse(t, person(200, WRIST_1=(0.0, 0.4)), hands=over, sad=0.0) for t in range(2)]
    assert "covering face" in tags(smiling) and "crying" not in tags(smiling)
    unsure = [glimpse(t, person(200), hands=over, sad=0.7, score=0.55) for t in range(2)]  # hair or a jumper
    assert "covering face" not in tags(unsure)


def test_sitting_standing_walking_and_running():
    seated = {"KNEE_0": (1.8, 4.5), "KNEE_1": (-1.8, 4.5), "ANKLE_0": (1.8, 6.4), "ANKLE_1": (-1.8, 6.4)}
    assert "sitting" in tags([glimpse(t, person(200, **seated)) for t in range(3)])
    assert "standing" in tags([glimpse(t, person(200)) for t in range(3)])
    walker = [glimpse(t, person(100 + 60 * t)) for t in range(4)]  # 1.5 face heights a second
    assert "walking" in tags(walker) and "standing" in tags(walker)
    runner = [glimpse(t / 2, person(100 + 200 * t)) for t in range(4)]  # 10 face heights a second
    assert "running" in tags(runner)
    assert "walking" not in tags([glimpse(0, person(100)), glimpse(1, person(160))])  # two frames prove nothing


def test_hugging_needs_two_people_close_with_an_arm_around():
    left = [glimpse(t, person(200, WRIST_1=(2.2, 2.0))) for t in range(2)]  # the arm reaches past the other's face
    right = [glimpse(t, person(260)) for t in range(2)]
    assert "hugging" in tags(left, [right])
    far = [glimpse(t, person(600)) for t in range(2)]
    assert "hugging" not in tags(left, [far])


def test_queries_name_actions_in_english_and_korean():
    parsed = parse_query("Minji waving", ["Minji"])
    assert parsed.people == ("Minji",) and parsed.actions == ("waving",)
    assert (("waving", 1.0),) in parsed.appearance
    assert parse_query("민지가 손 흔드는 장면", ["민지"]).actions == ("waving",)
    assert parse_query("a man sitting at a desk").actions == ("sitting",)
    assert parse_query("students clapping and cheering").actions == ("clapping",)
    assert parse_query("red car at night").actions == ()
