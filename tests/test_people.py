"""People: enrollment, recognition in indexed scenes, re-matching, person queries, deletion, isolation."""

from __future__ import annotations

import json

import cv2
import pytest

from helpers import frame_at, run_cli
from heimdex.errors import BadInput
from heimdex.people import delete_person, enroll, list_people
from heimdex.search import search

BOTH = "head-pose-face-detection-female-and-male.mp4"


def _photo(path, media, clip: str, seconds: float):
    cv2.imwrite(str(path), cv2.cvtColor(frame_at(media / clip, seconds), cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory, media):
    folder = tmp_path_factory.mktemp("photos")
    return {
        "mina": _photo(folder / "mina.jpg", media, "head-pose-face-detection-female.mp4", 0.5),
        "joon": _photo(folder / "joon.jpg", media, "head-pose-face-detection-male.mp4", 0.5),
        "nobody": _photo(folder / "parking.jpg", media, "car-detection.mp4", 1.0),
        "two": _photo(folder / "two.jpg", media, BOTH, 0.5),
    }


def _indexed(db, store, settings, media, user, name):
    from heimdex.ingest import ingest
    from heimdex.pipeline import index_video

    with (media / name).open("rb") as source:
        video = ingest(db, store, settings, user.id, source, name).video
    return index_video(db, store, video.id)


def _people_in(db, video_id) -> set[str]:
    with db.transaction() as conn:
        rows = conn.execute(
            """SELECT DISTINCT p.name FROM scene_people sp JOIN people p ON p.id = sp.person_id
               JOIN scenes s ON s.id = sp.scene_id WHERE s.video_id = %s""",
            (video_id,),
        ).fetchall()
    return {row["name"] for row in rows}


def test_enrollment_refuses_photos_without_exactly_one_face(db, registry, make_user, photos, tmp_path):
    user = make_user("enroll")
    analyzer = registry.get("faces")
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    for photo, code in ((photos["nobody"], "no_face"), (photos["two"], "several_faces"), (text, "not_image")):
        with pytest.raises(BadInput) as refused:
            enroll(db, user.id, "Mina", [photos["mina"], photo], analyzer)
        assert refused.value.code == code and refused.value.message
    assert list_people(db, user.id) == []  # nothing half-enrolled


def test_people_are_recognised_and_rematched_after_enrollment(db, store, settings, registry, make_user, media, photos):
    user = make_user("faces")
    both = _indexed(db, store, settings, media, user, BOTH)
    alone = _indexed(db, store, settings, media, user, "head-pose-face-detection-female.mp4")
    cars = _indexed(db, store, settings, media, user, "car-detection.mp4")
    assert any(scene.faces for scene in both.index.scenes)
    assert _people_in(db, both.video.id) == set()  # nobody enrolled yet
    analyzer = registry.get("faces")
    enroll(db, user.id, "Joon", [photos["joon"]], analyzer)
    assert _people_in(db, both.video.id) == {"Joon"}  # matched without indexing again
    enroll(db, user.id, "Mina", [photos["mina"]], analyzer)
    assert _people_in(db, alone.video.id) == {"Mina"}
    assert "Mina" not in _people_in(db, both.video.id) or "Joon" in _people_in(db, both.video.id)
    assert _people_in(db, cars.video.id) == set()  # nobody else is matched

    enroll(db, user.id, "준호", [photos["joon"]], analyzer)
    for query in ("Joon", "Joon smiling", "준호가 웃는 장면"):
        found = search(db, user.id, query).moments
        assert found and {m.filename for m in found} == {BOTH}, query
        assert all("person" in m.channels for m in found)

    listed = {p.name: p for p in list_people(db, user.id)}
    assert listed["Joon"].photos == 1 and listed["Joon"].scenes >= 1
    delete_person(db, user.id, listed["Mina"].id)
    assert _people_in(db, alone.video.id) == set()
    with db.transaction() as conn:
        seen = conn.execute(
            "SELECT count(*) AS n FROM faces f JOIN scenes s ON s.id = f.scene_id WHERE s.video_id = %s", (alone.video.id,)
        ).fetchone()["n"]
    assert seen > 0  # the faces seen in the video stay, unnamed


def test_faces_are_one_users_and_go_with_the_video(db, store, settings, registry, make_user, media, photos):
    from heimdex.videos import delete_video

    alice, bob = make_user("alice-faces"), make_user("bob-faces")
    report = _indexed(db, store, settings, media, alice, BOTH)
    enroll(db, bob.id, "Joon", [photos["joon"]], registry.get("faces"))
    assert _people_in(db, report.video.id) == set()  # Bob's Joon never matches Alice's scenes
    assert search(db, bob.id, "Joon").moments == []
    delete_video(db, store, alice.id, report.video.id)
    with db.transaction() as conn:
        assert conn.execute("SELECT count(*) AS n FROM faces WHERE user_id = %s", (alice.id,)).fetchone()["n"] == 0


def test_cli_people_add_and_list(make_user, photos):
    user = make_user("cli-people")
    added = run_cli("people", "add", "Joon", "--user", user.email, str(photos["joon"]))
    assert added.returncode == 0, added.stderr
    refused = run_cli("people", "add", "Nobody", "--user", user.email, str(photos["nobody"]))
    assert refused.returncode == 2 and "No face" in refused.stderr
    listed = json.loads(run_cli("people", "list", "--user", user.email, "--json").stdout)
    assert [(p["name"], p["photos"]) for p in listed] == [("Joon", 1)]
