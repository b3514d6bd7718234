"""Small things and workwear on real frames: tiles find the cyclist, a second frame confirms him, the worker's
vest and hard hat are read on him and on nobody else, and searches in both languages find them."""

from __future__ import annotations

import uuid

import pytest

from heimdex.library.media import frame_at
from heimdex.perception.objects import find_objects, riders
from heimdex.perception.people import describe_people
from heimdex.perception.tags import tag_frame
from heimdex.pipeline.frames import scan_frames
from heimdex.pipeline.index import Span
from heimdex.pipeline.keyframes import choose_keyframes
from heimdex.pipeline.visual import tag_scene
from heimdex.search import search

pytestmark = pytest.mark.integration

WORKWEAR = {"hard hat", "high-visibility vest", "safety vest"}
CYCLIST = "person-bicycle-car-detection.mp4"


def _tags(registry, media, name: str, seconds: float) -> dict:
    return {t.tag: t for t in tag_frame(frame_at(media / name, seconds), registry)}


@pytest.mark.parametrize("seconds", [1.0, 2.0, 3.0, 4.0])
def test_the_worker_wears_a_high_visibility_vest_and_a_hard_hat(registry, media, seconds):
    tags = _tags(registry, media, "worker-zone-detection.mp4", seconds)
    assert WORKWEAR | {"orange vest"} <= tags.keys(), sorted(tags)
    assert tags["hard hat"].source == "head colour" and tags["high-visibility vest"].source == "vest colour"
    assert any(t.startswith("person in an orange high-visibility vest") for t in tags), sorted(tags)


@pytest.mark.parametrize(
    "name, seconds",
    [
        ("store-aisle-detection.mp4", 0.0),  # a man in a straw hat and an olive jacket
        ("store-aisle-detection.mp4", 1.0),
        ("store-aisle-detection.mp4", 4.0),
        ("classroom.mp4", 1.0),
        ("one-by-one-person-detection.mp4", 14.0),
        ("head-pose-face-detection-female-and-male.mp4", 1.0),
        ("face-demographics-walking-and-pause.mp4", 2.0),
    ],
)
def test_nobody_else_is_said_to_wear_them(registry, media, name, seconds):
    tags = _tags(registry, media, name, seconds)
    assert not WORKWEAR & tags.keys(), sorted(tags)


def test_glasses_are_seen_on_the_two_who_wear_them_and_on_nobody_else(registry, media):
    """face-demographics-walking-and-pause: a bald man and a blonde woman with glasses beside a woman without."""
    frame = frame_at(media / "face-demographics-walking-and-pause.mp4", 2.0)
    people = describe_people(frame, find_objects(frame, registry).detections, registry)
    wearing = [(p.box[0] + p.box[2]) / 2 for p in people if "glasses" in {t.tag for t in p.worn}]
    assert len(wearing) == 2 and all(x > 0.3 for x in wearing), [(p.phrase(), p.box) for p in people]
    assert {t.tag: t.source for t in tag_frame(frame, registry)}.get("glasses") == "concepts on the head"
    bare = "head-pose-face-detection-female-and-male.mp4"
    for name, seconds in [(bare, 0.0), (bare, 2.0), (bare, 4.0), ("head-pose-face-detection-male.mp4", 1.0)]:
        tags = _tags(registry, media, name, seconds)
        assert not {"glasses", "sunglasses"} & tags.keys(), (name, seconds, sorted(tags))


def test_tiles_find_the_cyclist_the_whole_frame_misses(registry, media):
    frame = next(c for c in scan_frames(media / CYCLIST).candidates if c.t == 1.0).image  # as the pipeline reads it
    assert "bicycle" not in {d.label for d in find_objects(frame, registry, tiled=False).detections}
    found = find_objects(frame, registry)
    bicycle = next(d for d in found.detections if d.label == "bicycle")
    assert bicycle in found.by_tiles
    assert bicycle.box[0] > 0.6 and bicycle.box[3] < 0.3  # top right, where he rides
    assert [words for words, _ in riders(found.detections)] == ["riding a bicycle"]


def test_a_scene_finds_and_confirms_what_its_thumbnail_missed(registry, media):
    scan = scan_frames(media / CYCLIST)
    keyframes = choose_keyframes(Span(0.0, scan.end_s), scan.candidates, [])
    alone = {t.tag for t in tag_scene(keyframes, registry)}
    assert "bicycle" not in alone and "riding" not in alone  # the thumbnail shows the cyclist cut by the edge
    tags = {t.tag: t for t in tag_scene(keyframes, registry, scan.candidates)}
    assert {"bicycle", "riding a bicycle", "person riding a bicycle", "riding"} <= tags.keys(), sorted(tags)
    assert tags["person riding a bicycle"].source == "objects: riding"


@pytest.fixture(scope="module")
def onlooker(db, store, settings, media):
    from heimdex.auth.users import create_user
    from heimdex.jobs.runner import index_now
    from heimdex.library.ingest import ingest

    user = create_user(db, f"small-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery")
    for name in ("worker-zone-detection.mp4", "store-aisle-detection.mp4", CYCLIST, "people-detection.mp4"):
        with (media / name).open("rb") as source:
            index_now(db, store, ingest(db, store, settings, user.id, source, name).video.id)
    return user


@pytest.mark.parametrize(
    "query, clip",
    [
        ("a worker in a hard hat and a high-visibility vest", "worker-zone-detection.mp4"),
        ("안전모를 쓴 사람", "worker-zone-detection.mp4"),
        ("a person in an orange vest", "worker-zone-detection.mp4"),
        ("person riding a bicycle", CYCLIST),
        ("자전거 타는 사람", CYCLIST),
    ],
)
def test_searches_find_workwear_and_the_cyclist_in_both_languages(db, onlooker, query, clip):
    moments = search(db, onlooker.id, query).moments
    assert moments and moments[0].filename == clip, [(m.filename, m.channels) for m in moments]
    assert "visual" in moments[0].channels
