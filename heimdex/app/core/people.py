"""The people in a user's videos: named from photos or from faces picked in scenes, suggested, merged, split;
and the pictures of their faces."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from heimdex.app.core.common import database, store
from heimdex.app.handoff import file_path, get_handoff
from heimdex.app.inputs import clean_text, whole_number
from heimdex.app.results import LikelyFace, People, Person, PersonFace, SceneFace
from heimdex.auth.users import User
from heimdex.errors import BadInput
from heimdex.library import people as people_store
from heimdex.models.registry import get_registry


def _person(person: people_store.Person) -> Person:
    return cast(Person, {**person.summary(), "cover_face_id": person.cover})


def people(user: User) -> People:
    """The user's named people (by name) and the people suggested from faces seen (most seen first)."""
    return {
        "people": [_person(p) for p in people_store.list_people(database(), user.id)],
        "suggested": [_person(p) for p in people_store.list_people(database(), user.id, suggested=True)],
    }


def person_faces(user: User, person_id: int) -> list[PersonFace]:
    """A person's faces (photos first, then faces seen in videos)."""
    return [
        {
            "face_id": f.id,
            "video_id": str(f.video_id) if f.video_id else None,
            "title": f.title,
            "t": f.t,
            "reference": f.reference,
        }
        for f in people_store.person_faces(database(), user.id, whole_number(person_id, "person id"))
    ]


def likely_faces(user: User, person_id: int) -> list[LikelyFace]:
    """ "Is this also Mina?": faces seen in videos that surely are the person but unlike their photos; confirming
    one (:func:`name_face` with the person's name) makes it a reference face."""
    return [
        {
            "face_id": f.id,
            "video_id": str(f.video_id),
            "title": f.title,
            "t": f.t,
            "question": f"Is this also {f.name}?",
        }
        for f in people_store.likely_faces(database(), user.id, whole_number(person_id, "person id"))
    ]


def scene_faces(user: User, scene_ids: list[int]) -> list[SceneFace]:
    """The faces seen in the user's scenes, with the name each was given (``None``: nobody known)."""
    ids = [whole_number(i, "scene id") for i in (scene_ids or [])][:500]
    return [
        {"face_id": f.id, "video_id": str(f.video_id), "t": f.t, "name": f.name}
        for f in people_store.scene_faces(database(), user.id, ids)
    ]


def name_face(user: User, face_id: int, name: str) -> Person:
    """Enroll ``name`` from a face picked in one of the user's scenes (adding to the person if the name exists)."""
    return _person(
        people_store.enroll_faces(database(), user.id, clean_text(name, 200), [whole_number(face_id, "face id")])
    )


def add_person(user: User, name: str, photos: list[dict]) -> Person:
    """Enroll ``name`` from 1 to 20 photos with one face each (adding to the person if the name exists); like
    :func:`~heimdex.app.core.videos.upload`, only files this user uploaded, deleted afterwards."""
    handoff = get_handoff()
    if not isinstance(photos, list) or not photos or len(photos) > 20:
        raise BadInput("no_photo", "Add between 1 and 20 photos of the person.")
    claimed: list[Path] = []
    try:
        for photo in photos:
            claimed.append(handoff.claim(user.id, file_path(photo)))
        return _person(
            people_store.enroll(
                database(), store(), user.id, clean_text(name, 200), claimed, get_registry().get("faces")
            )
        )
    finally:
        for path in claimed:
            handoff.release(path)


def rename_person(user: User, person_id: int, name: str) -> Person:
    """Name a suggested person, or rename one; a name already used merges the two."""
    return _person(
        people_store.rename_person(database(), user.id, whole_number(person_id, "person id"), clean_text(name, 200))
    )


def merge_people(user: User, keep_id: int, other_id: int) -> Person:
    """Make two people one: ``other_id``'s faces join ``keep_id``."""
    return _person(
        people_store.merge_people(
            database(), user.id, whole_number(keep_id, "person id"), whole_number(other_id, "person id")
        )
    )


def split_person(user: User, person_id: int) -> list[Person]:
    """Split a person into the two most distinct groups; the second is a new unnamed person."""
    return [_person(p) for p in people_store.split_person(database(), user.id, whole_number(person_id, "person id"))]


def delete_person(user: User, person_id: int) -> None:
    """Forget a person: their name, photos and references (faces seen in videos stay, unnamed)."""
    people_store.delete_person(database(), store(), user.id, whole_number(person_id, "person id"))


def pictures(user: User, keys: list[str | None]) -> list[str | None]:
    """Files of the user's JPEGs (keyframes, faces) for the app to show; each key must be under the user's prefix."""
    blobs, handoff, shown = store(), get_handoff(), []
    for key in keys:
        if key and (not isinstance(key, str) or not key.startswith(f"u/{user.id}/")):
            raise BadInput("not_found", "No such picture.")
        if not key:
            shown.append(None)
            continue
        try:
            with blobs.open(key) as blob:
                shown.append(handoff.picture(user.id, key, blob.read()))
        except FileNotFoundError:  # deleted meanwhile
            shown.append(None)
    return shown


def face_pictures(user: User, face_ids: list[int | None]) -> list[str | None]:
    """Files of the pictures of the user's faces ``face_ids`` (None where a face has none or is not the user's)."""
    crops = people_store.face_crops(
        database(), user.id, [whole_number(i, "face id") for i in face_ids if i is not None]
    )
    return pictures(user, [crops.get(i) if i is not None else None for i in face_ids])
