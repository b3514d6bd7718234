"""A user's people: enroll from photos or from faces in scenes, name, merge, split, delete.

A person is a name (or none yet: a suggestion from clustering) with reference faces.
Every change runs :func:`heimdex.library.people.matching.refresh` in the same transaction, so
the scenes that show each person follow at once, without indexing any video again.
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import LiteralString

import numpy as np
import psycopg

from heimdex.db import Conn, Database, one
from heimdex.errors import BadInput, NotFound
from heimdex.library.orphans import delete_blobs
from heimdex.library.people.identity import matrix, nearest, representatives, two_groups
from heimdex.library.people.matching import MIN_CLUSTER_QUALITY, SUGGESTION_REFERENCES, copy_references, refresh
from heimdex.perception.faces import crop, is_drawn
from heimdex.storage import BlobStore

MAX_NAME = 80
PHOTO_SIDE = 1280  # photos are read at most this large (a face in a portrait stays well over 80 px)
MAX_PHOTO_PIXELS = 50_000_000  # a photo larger than this (by its header) is refused before it is decoded


@dataclass(frozen=True)
class Person:
    id: int
    name: str | None  # None: suggested by clustering, not named yet
    photos: int  # reference faces
    scenes: int  # scenes that show this person
    videos: int  # videos with such scenes
    cover: int | None  # the face shown for the person (its clearest)

    def summary(self) -> dict:
        return {
            "person_id": self.id,
            "name": self.name,
            "photos": self.photos,
            "scenes": self.scenes,
            "videos": self.videos,
            "suggested": self.name is None,
        }


@dataclass(frozen=True)
class FaceShown:
    id: int
    video_id: uuid.UUID | None  # None for a photo
    title: str | None
    t: float | None  # seconds into the video
    crop: str | None  # blob key of its picture
    reference: bool  # one of the faces that define the person
    name: str | None = None  # the person it was named after, if any


def _name(name: str) -> str:
    name = " ".join((name or "").split())[:MAX_NAME]
    if not name:
        raise BadInput("bad_name", "Give the person a name.")
    return name


def read_photo(path: Path) -> np.ndarray:
    """An RGB photo, upright and at most ``PHOTO_SIDE`` px; :class:`BadInput` if the file is not an image, or its
    header names more than :data:`MAX_PHOTO_PIXELS` (checked before anything is decoded: a small file can unpack
    into gigabytes)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    too_large = BadInput(
        "photo_too_large", f"{path.name} has more than {MAX_PHOTO_PIXELS // 1_000_000} megapixels; use a smaller photo."
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # measured here, with a sentence
            image = Image.open(path)  # reads the header only
        with image:
            if image.size[0] * image.size[1] > MAX_PHOTO_PIXELS:
                raise too_large
            image.draft("RGB", (PHOTO_SIDE, PHOTO_SIDE))  # a JPEG decodes straight at a smaller scale
            photo = ImageOps.exif_transpose(image).convert("RGB")
            photo.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
            return np.asarray(photo)
    except Image.DecompressionBombError:  # Pillow's own check, at opening, of the same header
        raise too_large from None
    except (UnidentifiedImageError, OSError):
        raise BadInput("not_image", f"{path.name} is not a photo Heimdex can read (use JPEG or PNG).") from None


def the_face(image: np.ndarray, analyzer, label: str):
    """The one face on a photo; :class:`BadInput` for none or several."""
    faces = analyzer.find(image, every=True)  # every pass: a second, leaning face must be counted too
    if not faces:
        raise BadInput("no_face", f"No face was found on {label}; use a photo where the face is clear and in front.")
    if len(faces) > 1:
        raise BadInput("several_faces", f"{label} shows {len(faces)} faces; use a photo of this person alone.")
    return faces[0]


def _person_named(conn: Conn, user_id: uuid.UUID, name: str) -> int:
    """The id of the user's person called ``name`` (any case), created if new."""
    row = conn.execute(
        "SELECT id FROM people WHERE user_id = %s AND lower(name) = lower(%s)", (user_id, name)
    ).fetchone()
    if row:
        return row["id"]
    try:
        return one(
            conn.execute("INSERT INTO people (user_id, name) VALUES (%s, %s) RETURNING id", (user_id, name)).fetchone()
        )["id"]
    except psycopg.errors.ForeignKeyViolation:
        raise NotFound("user", user_id) from None


def enroll(db: Database, store: BlobStore, user_id: uuid.UUID, name: str, photos: list[Path], analyzer) -> Person:
    """Add photos of ``name`` (creating the person if new); every photo is checked before anything is kept."""
    if not photos:
        raise BadInput("no_photo", "Add at least one photo of the person.")
    name = _name(name)
    faces = []
    for path in photos:
        image = read_photo(path)
        face = the_face(image, analyzer, path.name)
        faces.append((face, crop(image, face.box)))
    keys = [f"u/{user_id}/people/{uuid.uuid4().hex}.jpg" for _ in faces]
    with db.transaction() as conn:
        person_id = _person_named(conn, user_id, name)
        for key, (face, picture) in zip(keys, faces):
            store.put(key, io.BytesIO(picture))  # blobs before rows: a rollback leaves a stray file, never a broken row
            conn.execute(
                "INSERT INTO faces (user_id, person_id, box, descriptor, quality, crop) VALUES (%s, %s, %s, %s, %s, %s)",
                (user_id, person_id, list(face.box), face.descriptor, face.quality, key),
            )
        refresh(conn, user_id)
    return get_person(db, user_id, person_id)


def enroll_faces(db: Database, user_id: uuid.UUID, name: str, face_ids: list[int]) -> Person:
    """Add faces picked from the user's scenes to ``name`` (creating the person if new)."""
    name = _name(name)
    if not face_ids:
        raise BadInput("no_face", "Pick at least one face.")
    with db.transaction() as conn:
        person_id = _person_named(conn, user_id, name)
        if copy_references(conn, user_id, person_id, face_ids) != len(set(face_ids)):  # some are not the user's
            raise BadInput("face_not_found", "Pick faces from your own scenes.")
        refresh(conn, user_id)
    return get_person(db, user_id, person_id)


def list_people(db: Database, user_id: uuid.UUID, suggested: bool = False) -> list[Person]:
    """The user's named people by name, or (``suggested``) the unnamed suggestions, most seen first."""
    if suggested:
        return _people(db, user_id, "p.name IS NULL", "scenes DESC, p.id")
    return _people(db, user_id, "p.name IS NOT NULL", "lower(p.name), p.id")


def get_person(db: Database, user_id: uuid.UUID, person_id: int) -> Person:
    found = _people(db, user_id, "p.id = %(person)s", "p.id", person=person_id)
    if not found:
        raise NotFound("person", person_id)
    return found[0]


def _people(db: Database, user_id: uuid.UUID, condition: LiteralString, order: LiteralString, **params) -> list[Person]:
    with db.transaction() as conn:
        rows = conn.execute(
            f"""SELECT p.id, p.name,
                      (SELECT count(*) FROM faces f WHERE f.person_id = p.id AND f.scene_id IS NULL) AS photos,
                      (SELECT count(*) FROM scene_people sp WHERE sp.person_id = p.id) AS scenes,
                      (SELECT count(DISTINCT s.video_id) FROM scene_people sp JOIN scenes s ON s.id = sp.scene_id
                        WHERE sp.person_id = p.id) AS videos,
                      (SELECT f.id FROM faces f WHERE f.person_id = p.id AND f.crop IS NOT NULL
                        ORDER BY f.scene_id IS NULL, f.quality DESC LIMIT 1) AS cover
               FROM people p WHERE p.user_id = %(user)s AND {condition} ORDER BY {order}""",
            {"user": user_id, **params},
        ).fetchall()
    return [Person(r["id"], r["name"], r["photos"], r["scenes"], r["videos"], r["cover"]) for r in rows]


def person_faces(db: Database, user_id: uuid.UUID, person_id: int, limit: int = 48) -> list[FaceShown]:
    """The person's faces, clearest first: reference photos, then faces seen in videos."""
    get_person(db, user_id, person_id)
    with db.transaction() as conn:
        rows = conn.execute(
            """SELECT f.id, coalesce(s.video_id, f.video_id) AS video_id, v.title, f.t, f.crop, f.scene_id IS NULL AS reference
               FROM faces f LEFT JOIN scenes s ON s.id = f.scene_id LEFT JOIN videos v ON v.id = coalesce(s.video_id, f.video_id)
               WHERE f.person_id = %s AND f.user_id = %s AND f.crop IS NOT NULL
               ORDER BY f.scene_id IS NOT NULL, f.quality DESC, f.id LIMIT %s""",
            (person_id, user_id, limit),
        ).fetchall()
    return [FaceShown(r["id"], r["video_id"], r["title"], r["t"], r["crop"], r["reference"]) for r in rows]


CONFIDENT = 0.5  # a face this close to a reference is surely the person: no stranger came this near in the
# split-by-people eval's tune people (eval/faces.py; matching itself names faces up to 0.58)
LIKELY_SHOWN = 6


def likely_faces(db: Database, user_id: uuid.UUID, person_id: int) -> list[FaceShown]:
    """ "Is this also Mina?": faces seen in videos that surely are the person yet unlike their reference faces
    (one per track, least like the references first); each one confirmed (:func:`enroll_faces`) becomes a
    reference, so the person is found in more poses and lights."""
    person = get_person(db, user_id, person_id)
    if person.name is None:
        return []
    with db.transaction() as conn:
        references = conn.execute(
            "SELECT descriptor FROM faces WHERE person_id = %s AND user_id = %s AND scene_id IS NULL",
            (person_id, user_id),
        ).fetchall()
        rows = conn.execute(
            """SELECT DISTINCT ON (f.scene_id, coalesce(f.track, -f.id)) f.id, s.video_id, v.title, f.t, f.crop,
                      f.descriptor
               FROM faces f JOIN scenes s ON s.id = f.scene_id JOIN videos v ON v.id = s.video_id
               WHERE f.person_id = %s AND f.user_id = %s AND f.crop IS NOT NULL AND f.quality >= %s
               ORDER BY f.scene_id, coalesce(f.track, -f.id), f.quality DESC""",
            (person_id, user_id, MIN_CLUSTER_QUALITY),
        ).fetchall()
    if not rows or not references:
        return []
    _, distance = nearest(matrix([r["descriptor"] for r in rows]), matrix([r["descriptor"] for r in references]))
    likely = sorted((d, i) for i, d in enumerate(distance) if 0.2 < d < CONFIDENT)[::-1][:LIKELY_SHOWN]
    return [
        FaceShown(
            rows[i]["id"], rows[i]["video_id"], rows[i]["title"], rows[i]["t"], rows[i]["crop"], False, person.name
        )
        for _, i in likely
    ]


def face_crops(db: Database, user_id: uuid.UUID, face_ids: list[int]) -> dict[int, str]:
    """The picture (blob key) of each of the user's faces in ``face_ids`` that has one."""
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT id, crop FROM faces WHERE user_id = %s AND id = ANY(%s) AND crop IS NOT NULL",
            (user_id, list(face_ids)),
        ).fetchall()
    return {r["id"]: r["crop"] for r in rows}


def scene_faces(db: Database, user_id: uuid.UUID, scene_ids: list[int]) -> list[FaceShown]:
    """The faces seen in the user's scenes ``scene_ids``, each with the name it was given (if any)."""
    with db.transaction() as conn:
        rows = conn.execute(
            """SELECT f.id, s.video_id, v.title, f.t, f.crop, p.name
               FROM faces f JOIN scenes s ON s.id = f.scene_id JOIN videos v ON v.id = s.video_id
               LEFT JOIN people p ON p.id = f.person_id
               WHERE f.user_id = %s AND f.scene_id = ANY(%s) ORDER BY f.t, f.box[1], f.id""",
            (user_id, [int(i) for i in scene_ids]),
        ).fetchall()
    return [FaceShown(r["id"], r["video_id"], r["title"], r["t"], r["crop"], False, r["name"]) for r in rows]


def rename_person(db: Database, user_id: uuid.UUID, person_id: int, name: str) -> Person:
    """Name (or rename) a person; a name another of the user's people has merges the two."""
    name = _name(name)
    with db.transaction() as conn:
        _own(conn, user_id, person_id)
        other = conn.execute(
            "SELECT id FROM people WHERE user_id = %s AND lower(name) = lower(%s) AND id <> %s",
            (user_id, name, person_id),
        ).fetchone()
        if other:
            _merge(conn, user_id, other["id"], person_id)
            refresh(conn, user_id)
            return_id = other["id"]
        else:
            conn.execute("UPDATE people SET name = %s WHERE id = %s", (name, person_id))
            return_id = person_id
    return get_person(db, user_id, return_id)


def merge_people(db: Database, user_id: uuid.UUID, keep_id: int, other_id: int) -> Person:
    """One person from two: ``other``'s faces join ``keep`` (whose name stays, or other's if keep has none)."""
    if keep_id == other_id:
        raise BadInput("same_person", "Pick two different people to merge.")
    with db.transaction() as conn:
        keep, other = _own(conn, user_id, keep_id), _own(conn, user_id, other_id)
        _merge(conn, user_id, keep_id, other_id)
        if keep["name"] is None and other["name"] is not None:
            conn.execute("UPDATE people SET name = %s WHERE id = %s", (other["name"], keep_id))
        refresh(conn, user_id)
    return get_person(db, user_id, keep_id)


def split_person(db: Database, user_id: uuid.UUID, person_id: int) -> tuple[Person, Person]:
    """Split a person whose faces are two people (siblings, say) into the two most distinct groups.

    The group holding more of the person's reference faces keeps the person (and its
    name); the other becomes a new unnamed person with its own reference faces, so
    each face seen goes to whichever of the two it is closer to from now on.
    """
    with db.transaction() as conn:
        _own(conn, user_id, person_id)
        rows = conn.execute(
            "SELECT id, scene_id IS NULL AS reference, descriptor, quality, drawn FROM faces WHERE person_id = %s ORDER BY id",
            (person_id,),
        ).fetchall()
        if len(rows) < 2:
            raise BadInput("too_few_faces", "This person has only one face; there is nothing to split.")
        descriptors = matrix([r["descriptor"] for r in rows])
        groups = two_groups(descriptors)
        reference = np.array([r["reference"] for r in rows])
        kept = max((0, 1), key=lambda g: ((reference & (groups == g)).sum(), (groups == g).sum()))
        moved = np.flatnonzero(groups != kept)
        new_id = one(conn.execute("INSERT INTO people (user_id) VALUES (%s) RETURNING id", (user_id,)).fetchone())["id"]
        conn.execute(
            "UPDATE faces SET person_id = %s WHERE id = ANY(%s) AND scene_id IS NULL",
            (new_id, [rows[i]["id"] for i in moved if rows[i]["reference"]]),
        )
        seen = np.array([i for i in moved if not rows[i]["reference"]], dtype=np.int64)
        if len(seen):
            quality = np.array([rows[i]["quality"] for i in seen], dtype=np.float32)
            chosen = seen[representatives(descriptors[seen], quality, SUGGESTION_REFERENCES)]
            copy_references(conn, user_id, new_id, [rows[i]["id"] for i in chosen])
        refresh(conn, user_id)
        drawn = len(seen) > 0 and all(is_drawn(rows[i]["drawn"]) for i in seen)
        if drawn and conn.execute("SELECT 1 FROM people WHERE id = %s", (new_id,)).fetchone() is None:
            # a suggestion of drawn faces only is dropped (matching.refresh): the split is undone
            raise BadInput("drawn_faces", "The faces split off are drawn (a cartoon); name them to keep them apart.")
    return get_person(db, user_id, person_id), get_person(db, user_id, new_id)


def delete_person(db: Database, store: BlobStore, user_id: uuid.UUID, person_id: int) -> None:
    """Forget a person: their reference faces, photos and scene links go; faces seen in videos stay, unnamed."""
    with db.transaction() as conn:
        _own(conn, user_id, person_id)
        photos = [
            r["crop"]
            for r in conn.execute(
                "SELECT crop FROM faces WHERE person_id = %s AND scene_id IS NULL AND crop IS NOT NULL", (person_id,)
            ).fetchall()
        ]
        conn.execute("UPDATE faces SET person_id = NULL WHERE person_id = %s AND scene_id IS NOT NULL", (person_id,))
        conn.execute("DELETE FROM people WHERE id = %s", (person_id,))  # its reference faces go with it
        refresh(conn, user_id)
    delete_blobs(db, store, photos)


def _own(conn: Conn, user_id: uuid.UUID, person_id: int) -> dict:
    """The person's row, locked; :class:`NotFound` unless it is the user's."""
    row = conn.execute(
        "SELECT id, name FROM people WHERE id = %s AND user_id = %s FOR UPDATE", (person_id, user_id)
    ).fetchone()
    if row is None:
        raise NotFound("person", person_id)
    return row


def _merge(conn: Conn, user_id: uuid.UUID, keep_id: int, other_id: int) -> None:
    conn.execute("UPDATE faces SET person_id = %s WHERE person_id = %s AND user_id = %s", (keep_id, other_id, user_id))
    conn.execute("DELETE FROM people WHERE id = %s AND user_id = %s", (other_id, user_id))
