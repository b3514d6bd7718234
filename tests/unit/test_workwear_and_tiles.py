"""The pixel rules of workwear, the detector's tiles, riding, and the query words that reach them."""

import numpy as np
import pytest

from heimdex.models.types import Detection
from heimdex.perception.objects import riders, tiles
from heimdex.perception.wear import hard_hat, vest
from heimdex.search.query import actions_in, appearance_units

pytestmark = pytest.mark.unit


def _pixels(rgb: tuple[int, int, int], n: int = 400) -> np.ndarray:
    return np.tile(np.array(rgb, dtype=np.uint8), (n, 1))


FLUORESCENT_ORANGE = (255, 90, 20)
CLOTH_ORANGE = (190, 120, 70)  # an ordinary orange jacket: the hue of a vest, not its dye
SAFETY_YELLOW = (250, 210, 20)
STRAW = (200, 160, 100)


def test_a_fluorescent_torso_is_a_high_visibility_vest_and_ordinary_cloth_is_not():
    seen = vest(np.concatenate([_pixels(FLUORESCENT_ORANGE, 300), _pixels((60, 70, 120), 700)]))
    assert seen is not None and seen.words == "orange high-visibility vest" and 0.45 < seen.confidence <= 0.95
    assert vest(_pixels(CLOTH_ORANGE)) is None
    assert vest(_pixels((128, 128, 128))) is None
    assert vest(np.concatenate([_pixels(FLUORESCENT_ORANGE, 10), _pixels((40, 40, 40), 990)])) is None  # a stripe
    assert vest(np.zeros((0, 3), dtype=np.uint8)) is None


def test_a_dyed_crown_is_a_hard_hat_and_straw_or_hair_is_not():
    seen = hard_hat(np.concatenate([_pixels(SAFETY_YELLOW, 200), _pixels((70, 50, 40), 200)]))
    assert seen is not None and seen.words == "yellow hard hat"
    assert hard_hat(_pixels(STRAW)) is None
    assert hard_hat(_pixels((90, 60, 40))) is None  # brown hair
    assert hard_hat(_pixels((230, 200, 150))) is None  # blonde hair


def test_tiles_cover_the_frame_and_overlap():
    boxes = tiles(480, 270)
    assert len(boxes) == 4
    covered = np.zeros((270, 480), dtype=bool)
    for left, top, right, bottom in boxes:
        assert 0 <= left < right <= 480 and 0 <= top < bottom <= 270
        covered[top:bottom, left:right] = True
    assert covered.all()
    (l0, _, r0, _), (l1, _, _, _) = boxes[0], boxes[1]
    assert r0 - l1 >= 0.2 * (r0 - l0)  # neighbours share a fifth or more


def test_a_person_over_a_bicycle_rides_it_and_one_beside_it_does_not():
    rider = Detection("person", 0.8, (0.50, 0.10, 0.60, 0.40))
    bike = Detection("bicycle", 0.6, (0.48, 0.25, 0.62, 0.45))
    walker = Detection("person", 0.9, (0.10, 0.10, 0.20, 0.40))
    assert riders([rider, bike]) == [("riding a bicycle", 0.6)]
    assert riders([walker, bike]) == []
    assert riders([rider, Detection("car", 0.9, bike.box)]) == []


def test_queries_reach_workwear_and_riding_in_both_languages():
    assert (("hard hat", 1.0),) in appearance_units("a man in a hard hat and an orange vest")
    assert (("hard hat", 1.0),) in appearance_units("안전모를 쓴 사람")
    assert any(("orange vest", 0.75) in unit for unit in appearance_units("a man in a hard hat and an orange vest"))
    assert actions_in("a person riding a bicycle") == ("riding",)
    assert actions_in("자전거 타는 사람") == ("riding",)
