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
    tape = _pixels((230, 230, 225), 15)
    seen = vest(np.concatenate([_pixels(FLUORESCENT_ORANGE, 300), tape, _pixels((60, 70, 120), 685)]))
    assert seen is not None and seen.words == "orange high-visibility vest" and 0.45 < seen.confidence <= 0.95
    assert vest(np.concatenate([_pixels(CLOTH_ORANGE), tape])) is None
    assert vest(_pixels((128, 128, 128))) is None
    stripe = np.concatenate([_pixels(FLUORESCENT_ORANGE, 100), tape, _pixels((40, 40, 40), 885)])
    assert vest(stripe) is None  # a tenth of the torso: an orange stripe on a dark jacket
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
    beside = Detection("person", 0.8, (0.55, 0.10, 0.75, 0.45))  # overlaps the bicycle, stands at its side
    behind = Detection("person", 0.8, (0.47, 0.35, 0.63, 0.70))  # overlaps it, head below its top
    assert riders([beside, bike]) == [] and riders([behind, bike]) == []
    assert riders([rider, Detection("car", 0.9, bike.box)]) == []


def test_queries_reach_workwear_and_riding_in_both_languages():
    assert (("hard hat", 1.0),) in appearance_units("a man in a hard hat and an orange vest")
    assert (("hard hat", 1.0),) in appearance_units("안전모를 쓴 사람")
    assert any(("orange vest", 0.75) in unit for unit in appearance_units("a man in a hard hat and an orange vest"))
    assert actions_in("a person riding a bicycle") == ("riding",)
    assert actions_in("자전거 타는 사람") == ("riding",)


def test_ordinary_bright_clothes_are_not_a_vest_and_hats_keep_their_colour():
    tape = _pixels((235, 235, 235), 20)  # a white logo: bright and colourless, like the tape
    assert vest(np.concatenate([_pixels((220, 30, 30), 380), tape])) is None  # a red shirt
    assert vest(_pixels((240, 200, 40))) is None  # a yellow t-shirt without reflective tape
    assert vest(np.concatenate([_pixels((240, 200, 40), 380), tape])).words == "yellow high-visibility vest"
    assert hard_hat(_pixels((200, 40, 200))).words == "purple hard hat"
    assert hard_hat(_pixels((220, 30, 30))).words == "red hard hat"
    assert hard_hat(_pixels((220, 30, 70))).words == "red hard hat"  # the other end of the hue circle


# A frame whose pixels say where they are: red is x, green is y (0..255 over the frame), blue the frame's number.
HEIGHT, WIDTH = 240, 400


def _frame(number: int = 0) -> np.ndarray:
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH]
    return np.dstack([xs * 255 // WIDTH, ys * 255 // HEIGHT, np.full_like(xs, 10 * number)]).astype(np.uint8)


class _Detector:
    """Answers from a table: (frame number, 'whole' or the tile's (column, row)) → detections in its own 0..1."""

    def __init__(self, table: dict):
        self.table = table

    def detect(self, image: np.ndarray) -> list[Detection]:
        number = int(image[0, 0, 2]) // 10
        if image.shape[:2] == (HEIGHT, WIDTH):
            return self.table.get((number, "whole"), [])
        column, row = int(image[0, 0, 0] > 0), int(image[0, 0, 1] > 0)
        return self.table.get((number, (column, row)), [])


class _Registry:
    def __init__(self, **roles):
        self.roles = roles

    def has(self, role: str) -> bool:
        return role in self.roles

    def get(self, role: str):
        return self.roles[role]


def test_tile_boxes_are_placed_on_the_frame_and_cut_or_misread_ones_dropped():
    from heimdex.perception.objects import find_objects

    (left, top, right, bottom) = tiles(WIDTH, HEIGHT)[3]  # the bottom-right tile (rows first: 0 1 / 2 3)
    car = (0.6, 0.6, 0.9, 0.9)  # frame coordinates
    as_tile = lambda x0, y0, x1, y1: (  # noqa: E731
        (x0 * WIDTH - left) / (right - left),
        (y0 * HEIGHT - top) / (bottom - top),
        (x1 * WIDTH - left) / (right - left),
        (y1 * HEIGHT - top) / (bottom - top),
    )
    table = {
        (0, "whole"): [Detection("car", 0.8, car)],
        (0, (0, 0)): [
            Detection("bicycle", 0.5, (0.5, 0.5, 0.7, 0.8)),  # inside the tile
            Detection("person", 0.5, (0.0, 0.3, 0.2, 0.9)),  # at the frame's own left edge: whole
            Detection("bench", 0.5, (0.8, 0.3, 0.999, 0.6)),  # cut by the tile's inner right edge
        ],
        (0, (1, 1)): [Detection("cell phone", 0.9, as_tile(*car)), Detection("car", 0.95, as_tile(*car))],
        (0, (1, 0)): [Detection("dog", 0.5, (0.2, 0.4, 0.3, 0.6))],  # the top-right tile
    }
    found = find_objects(_frame(), _Registry(objects_oi=_Detector(table)))
    by_label = {d.label: d for d in found.detections}
    assert set(by_label) == {"car", "bicycle", "person", "dog"}  # the phone is the car misread, the bench was cut
    first, second = tiles(WIDTH, HEIGHT)[:2]
    width, height = (first[2] - first[0]) / WIDTH, (first[3] - first[1]) / HEIGHT
    assert np.allclose(by_label["bicycle"].box, (0.5 * width, 0.5 * height, 0.7 * width, 0.8 * height))
    x0 = second[0] / WIDTH
    assert second[1] == 0 and x0 > 0.3  # the top-right tile: a box placed with x and y swapped would miss
    assert np.allclose(by_label["dog"].box, (x0 + 0.2 * width, 0.4 * height, x0 + 0.3 * width, 0.6 * height))
    assert by_label["bicycle"] in found.by_tiles and by_label["person"] in found.by_tiles
    assert by_label["car"] not in found.by_tiles  # the whole frame saw it too (the tile's box was surer)
    assert len([d for d in found.detections if d.label == "car"]) == 1


def _candidate(t: float, number: int, signature: int):
    import cv2

    from heimdex.pipeline.keyframes import Candidate

    png = cv2.imencode(".png", cv2.cvtColor(_frame(number), cv2.COLOR_RGB2BGR))[1].tobytes()
    return Candidate(t, 1.0, png, np.full((36, 64), signature, np.uint8))


def test_a_scene_counts_what_only_tiles_or_other_frames_saw_once_it_is_seen_twice():
    from heimdex.pipeline.visual import tag_scene

    rider = [Detection("person", 0.6, (0.5, 0.1, 0.6, 0.5)), Detection("bicycle", 0.5, (0.45, 0.3, 0.65, 0.6))]
    far = Detection("person", 0.4, (0.8, 0.0, 0.82, 0.05))  # a small thing on the thumbnail: look closer
    table = {
        (0, "whole"): [Detection("person", 0.8, (0.1, 0.1, 0.3, 0.9)), far],
        (1, (0, 0)): rider,
        (2, (0, 0)): rider,
        (3, (0, 0)): [Detection("dog", 0.9, (0.3, 0.3, 0.6, 0.6))],  # one frame only
    }
    registry = _Registry(objects_oi=_Detector(table))
    look = _candidate(0.0, 0, 0)
    frames = [look, _candidate(1.0, 1, 60), _candidate(2.0, 2, 120), _candidate(3.0, 3, 180)]
    tags = {t.tag: t for t in tag_scene([look], registry, frames)}
    assert {"bicycle", "riding a bicycle", "person riding a bicycle", "riding"} <= tags.keys(), sorted(tags)
    assert "dog" not in tags
    assert tags["person riding a bicycle"].confidence == 0.5
    still = [look] + [_candidate(t, n, 0) for t, n in ((1.0, 1), (2.0, 2))]  # the same picture: nothing new to see
    assert not {"bicycle", "riding"} & {t.tag for t in tag_scene([look], registry, still)}
    assert {t.tag for t in tag_scene([look], registry)} >= {"person"}
    nothing_small = _Registry(objects_oi=_Detector({**table, (0, "whole"): table[0, "whole"][:1]}))
    assert "bicycle" not in {t.tag for t in tag_scene([look], nothing_small, frames)}  # the others are not tiled
    faint = [Detection(d.label, 0.31, d.box) for d in rider]  # under the tag threshold: enough to confirm, not alone
    registry = _Registry(objects_oi=_Detector({**table, (2, (0, 0)): faint}))
    assert {"bicycle", "riding"} <= {t.tag for t in tag_scene([look], registry, frames)}
    registry = _Registry(objects_oi=_Detector({**table, (1, (0, 0)): faint, (2, (0, 0)): faint}))
    assert not {"bicycle", "riding"} & {t.tag for t in tag_scene([look], registry, frames)}
