"""Search by sight: people by appearance, places, coloured and counted objects, scene sentences, on real frames."""

from __future__ import annotations

import uuid

import pytest

from heimdex.library.media import frame_at
from heimdex.perception.caption import caption
from heimdex.perception.tags import tag_frame
from heimdex.search import search
from heimdex.search.channels import SearchFilters, appearance_scores
from heimdex.search.query import parse_query

pytestmark = pytest.mark.integration

PERSONAL = {"face", "clothing", "person"}  # sources of what is said about a person
GENDERED = {"man", "woman", "boy", "girl", "elderly man", "elderly woman"}


def _tags(registry, media, name: str, seconds: float) -> dict[str, object]:
    return {t.tag: t for t in tag_frame(frame_at(media / name, seconds), registry)}


def test_the_man_is_a_man_in_a_blue_top(registry, media):
    tags = _tags(registry, media, "head-pose-face-detection-male.mp4", 0.5)
    assert "man" in tags and tags["man"].source == "face" and "woman" not in tags  # type: ignore[attr-defined]
    assert "blue t-shirt" in tags or "blue top" in tags, sorted(tags)
    assert any(tag.startswith("man in a blue") for tag in tags), sorted(tags)


def test_a_person_seen_from_behind_is_described_by_clothes_and_never_given_a_guessed_gender(registry, media):
    """The woman in one-by-one-person-detection.mp4 stands with her back to the camera: no face, so no gender."""
    tags = _tags(registry, media, "one-by-one-person-detection.mp4", 14.0)
    assert "person in grey" in tags, sorted(tags)
    assert any(t.startswith("person in a grey") for t in tags), sorted(tags)
    assert not GENDERED & tags.keys()


def test_a_frame_without_people_gets_no_person_attribute(registry, media):
    for name, seconds in (("bottle-detection.mp4", 1.0), ("car-detection.mp4", 15.0)):
        tags = tag_frame(frame_at(media / name, seconds), registry)
        assert tags and not [t for t in tags if t.source in PERSONAL or t.tag in GENDERED], (name, tags)


def test_objects_are_coloured_and_counted(registry, media):
    tags = _tags(registry, media, "bottle-detection.mp4", 1.0)
    assert "three bottles" in tags and tags["three bottles"].source == "count"  # type: ignore[attr-defined]
    assert "white table" in tags  # a colour for a table too: not a fixed list of coloured things


def test_a_place_keeps_its_reason(registry, media):
    tags = tag_frame(frame_at(media / "classroom.mp4", 1.0), registry)
    places = {t.tag: t.source for t in tags if t.source.startswith("place:")}
    assert "classroom" in places and "chair" in places["classroom"] and "people" in places["classroom"], places
    assert "outdoors" not in places


def test_the_scene_sentence_says_who_and_what(registry, media):
    tags = tag_frame(frame_at(media / "head-pose-face-detection-female-and-male.mp4", 1.0), registry)
    sentence = caption(tags)
    assert sentence.startswith("Two people: a man in a blue") and sentence.endswith("."), sentence
    assert caption([]) == ""


@pytest.fixture(scope="module")
def viewer(db, store, settings, media):
    from heimdex.auth.users import create_user
    from heimdex.jobs.runner import index_now
    from heimdex.library.ingest import ingest

    user = create_user(db, f"sight-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery")
    for name in ("head-pose-face-detection-male.mp4", "head-pose-face-detection-female.mp4", "bottle-detection.mp4"):
        with (media / name).open("rb") as source:
            index_now(db, store, ingest(db, store, settings, user.id, source, name).video.id)
    return user


def test_a_korean_appearance_query_finds_the_scene_its_english_one_finds(db, viewer):
    english = search(db, viewer.id, "a man in a blue t-shirt").moments
    korean = search(db, viewer.id, "파란 티셔츠를 입은 남자").moments
    assert english and english[0].filename == "head-pose-face-detection-male.mp4"
    assert korean and korean[0].scene_ids == english[0].scene_ids
    assert "visual" in korean[0].channels and korean[0].caption


def test_appearance_words_outweigh_generic_ones(db, viewer):
    """'a man in a red shirt': men in red above other men, and both above red things."""
    with db.transaction() as conn:
        video = conn.execute("SELECT id FROM videos WHERE user_id = %s LIMIT 1", (viewer.id,)).fetchone()["id"]
        ids = {}
        for idx, tags in enumerate(
            ("man, man in a red shirt, red shirt, standing", "man, man in a blue shirt, blue shirt", "red car, car")
        ):
            ids[tags.split(",")[1].strip()] = conn.execute(
                "INSERT INTO scenes (video_id, user_id, idx, start_s, end_s, tag_text) VALUES (%s, %s, %s, %s, %s, %s)"
                " RETURNING id",
                (video, viewer.id, 1000 + idx, 1000.0 + idx, 1000.5 + idx, tags),
            ).fetchone()["id"]
        scores = appearance_scores(conn, viewer.id, parse_query("a man in a red shirt").appearance, SearchFilters())
        conn.execute("DELETE FROM scenes WHERE id = ANY(%s)", (list(ids.values()),))
    red_man, blue_man, red_car = (scores.get(ids[k], 0.0) for k in ("man in a red shirt", "man in a blue shirt", "car"))
    assert red_man > blue_man > red_car == 0.0, scores
