"""Drawn faces: a cartoon or caricature is found as a face, but measured drawn, and never suggested as a person.

The shared media's one drawn face is the painted caricature on a computer screen in goldeneye (up to its
cut at 8.74 s); the drawn avatars and emoji eval/drawn_faces.py measures on are built by eval/media's scripts, not
kept in the repository (no media is).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from heimdex.library.media import frame_at
from heimdex.library.people import enroll_faces, get_person, list_people, person_faces, scene_faces
from heimdex.library.people.identity import clusters, matrix
from heimdex.library.people.matching import MIN_CLUSTER_QUALITY, without_drawn_suggestions
from heimdex.perception.faces import DRAWN, drawn_score, is_drawn

GOLDENEYE = "goldeneye-vfr-drop3.mp4"
CARICATURE_UNTIL_S = 8.74  # the cut after which the clip's faces are people's


def _scores(registry, path: Path, t: float) -> list[float]:
    image = frame_at(path, t)
    return [drawn_score(image, face.box) for face in registry.get("faces").detect(image)]


@pytest.mark.integration
def test_the_caricature_on_the_screen_is_drawn_and_the_people_are_not(registry, media):
    [caricature] = _scores(registry, media / GOLDENEYE, 6.0)
    assert caricature >= DRAWN
    people = _scores(registry, media / GOLDENEYE, 9.5)  # after the cut: a man with glasses and a red-haired woman
    assert len(people) == 2 and max(people) < DRAWN
    for clip, t in (("head-pose-face-detection-female.mp4", 1.0), ("head-pose-face-detection-male.mp4", 0.5)):
        [face] = _scores(registry, media / clip, t)
        assert face < DRAWN, clip


@pytest.mark.unit
def test_a_suggestion_of_drawn_faces_only_is_dropped_and_named_people_keep_theirs():
    person = np.array([7, 7, 8, 8, 9, 9, -1])  # 7: a cartoon; 8: a person once drawn; 9: a named cartoon
    distance = np.array([0.1, 0.2, 0.1, 0.2, 0.3, 0.3, np.inf])
    drawn = np.array([True, True, True, False, True, True, True])
    kept, gap = without_drawn_suggestions(person, distance, drawn, named={9})
    assert kept.tolist() == [-1, -1, 8, 8, 9, 9, -1]
    assert np.isinf(gap[:2]).all() and gap[2:6].tolist() == [0.1, 0.2, 0.3, 0.3]
    assert not is_drawn(None) and is_drawn(DRAWN) and not is_drawn(DRAWN - 0.01)


@pytest.mark.integration
def test_the_caricature_is_not_suggested_but_can_be_named(db, store, settings, make_user, media):
    from heimdex.jobs.runner import index_now
    from heimdex.library.ingest import ingest

    user = make_user("cartoon")
    with (media / GOLDENEYE).open("rb") as source:
        video = ingest(db, store, settings, user.id, source, GOLDENEYE).video
    index_now(db, store, video.id)
    with db.transaction() as conn:
        rows = conn.execute(
            """SELECT f.id, f.scene_id, f.t, f.drawn, f.quality, f.descriptor, f.person_id FROM faces f
               JOIN scenes s ON s.id = f.scene_id WHERE s.video_id = %s ORDER BY f.t""",
            (video.id,),
        ).fetchall()
    caricature = [r for r in rows if r["t"] < CARICATURE_UNTIL_S]
    assert caricature and all(is_drawn(r["drawn"]) for r in caricature)
    assert not any(is_drawn(r["drawn"]) for r in rows if r["t"] > CARICATURE_UNTIL_S)
    clear = [r for r in caricature if r["quality"] >= MIN_CLUSTER_QUALITY]
    labels = clusters(matrix([r["descriptor"] for r in clear]), settings.face_cluster_distance)
    assert (labels >= 0).sum() >= 2  # clear and alike enough to have been suggested as a person
    assert all(r["person_id"] is None for r in caricature)  # ... but nobody's
    for suggestion in list_people(db, user.id, suggested=True):
        assert all(f.t is not None and f.t > CARICATURE_UNTIL_S for f in person_faces(db, user.id, suggestion.id))

    shown = {f.id for f in scene_faces(db, user.id, list({r["scene_id"] for r in caricature})) if f.crop}
    assert {r["id"] for r in caricature} <= shown  # the faces stay on their scenes, to be picked and named
    boris = enroll_faces(db, user.id, "Boris", [r["id"] for r in clear])
    assert get_person(db, user.id, boris.id).scenes >= 1
    assert "Boris" in [p.name for p in list_people(db, user.id)]
