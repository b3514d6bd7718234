"""People: a user's enrolled persons, their reference faces, and which scenes show them.

Enrolling reads one face from each photo (a photo with no face, or with several, is
refused in words). A scene shows a person when one of its faces is closer than
``HEIMDEX_FACE_MATCH_DISTANCE`` to one of the person's reference faces; matching is
a SQL query over the user's own faces (pgvector's ``<->``), so enrolling or editing a
person re-matches every stored face without running the video pipeline again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg

from heimdex.config import get_settings
from heimdex.db import Database
from heimdex.errors import BadInput, NotFound

MAX_NAME = 80


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    photos: int  # reference faces
    scenes: int  # scenes that show this person

    def summary(self) -> dict:
        return {"person_id": self.id, "name": self.name, "photos": self.photos, "scenes": self.scenes}


def _name(name: str) -> str:
    name = " ".join(name.split())[:MAX_NAME]
    if not name:
        raise BadInput("bad_name", "Give the person a name.")
    return name


def read_photo(path: Path) -> np.ndarray:
    """An RGB photo; :class:`BadInput` if the file is not an image."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError):
        raise BadInput("not_image", f"{path.name} is not a photo Heimdex can read (use JPEG or PNG).") from None


def the_face(image: np.ndarray, analyzer, label: str):
    """The one face on a photo; :class:`BadInput` for none or several."""
    faces = analyzer.faces(image, upsample=1)
    if not faces:
        raise BadInput("no_face", f"No face was found on {label}; use a photo where the face is clear and in front.")
    if len(faces) > 1:
        raise BadInput("several_faces", f"{label} shows {len(faces)} faces; use a photo of this person alone.")
    return faces[0]


def enroll(db: Database, user_id: uuid.UUID, name: str, photos: list[Path], analyzer) -> Person:
    """Add photos of ``name`` (creating the person if new), then re-match the user's faces."""
    if not photos:
        raise BadInput("no_photo", "Add at least one photo of the person.")
    name = _name(name)
    faces = [the_face(read_photo(path), analyzer, path.name) for path in photos]  # all checked before any write
    with db.transaction() as conn:
        row = conn.execute("SELECT id FROM people WHERE user_id = %s AND lower(name) = lower(%s)", (user_id, name)).fetchone()
        try:
            person_id = row["id"] if row else conn.execute(
                "INSERT INTO people (user_id, name) VALUES (%s, %s) RETURNING id", (user_id, name)
            ).fetchone()["id"]
        except psycopg.errors.ForeignKeyViolation:
            raise NotFound("user", user_id) from None
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO faces (user_id, person_id, box, descriptor, quality) VALUES (%s, %s, %s, %s, %s)",
                [(user_id, person_id, list(face.box), face.descriptor, face.quality) for face in faces],
            )
        match_faces(conn, user_id)
    return get_person(db, user_id, person_id)


def match_faces(conn: psycopg.Connection, user_id: uuid.UUID, scene_ids: list[int] | None = None) -> None:
    """Recompute which of the user's scenes (all, or ``scene_ids``) show which enrolled person."""
    limit = get_settings().face_match_distance
    scope = "AND f.scene_id = ANY(%(scenes)s)" if scene_ids is not None else ""
    params = {"user": user_id, "limit": limit, "scenes": scene_ids}
    conn.execute(
        f"""DELETE FROM scene_people sp USING scenes s
            WHERE s.id = sp.scene_id AND s.user_id = %(user)s {scope.replace('f.scene_id', 'sp.scene_id')}""",
        params,
    )
    conn.execute(
        f"""UPDATE faces f SET person_id = NULL WHERE f.user_id = %(user)s AND f.scene_id IS NOT NULL {scope}""", params
    )
    conn.execute(  # every person a scene's faces resemble, at their closest
        f"""INSERT INTO scene_people (scene_id, person_id, distance)
            SELECT f.scene_id, r.person_id, min(f.descriptor <-> r.descriptor)
            FROM faces f JOIN faces r ON r.user_id = f.user_id AND r.scene_id IS NULL AND r.person_id IS NOT NULL
            WHERE f.user_id = %(user)s AND f.scene_id IS NOT NULL {scope} AND f.descriptor <-> r.descriptor < %(limit)s
            GROUP BY f.scene_id, r.person_id""",
        params,
    )
    conn.execute(  # each face is named after its closest person
        f"""UPDATE faces f SET person_id = best.person_id
            FROM (SELECT DISTINCT ON (f.id) f.id, r.person_id
                  FROM faces f JOIN faces r ON r.user_id = f.user_id AND r.scene_id IS NULL AND r.person_id IS NOT NULL
                  WHERE f.user_id = %(user)s AND f.scene_id IS NOT NULL {scope} AND f.descriptor <-> r.descriptor < %(limit)s
                  ORDER BY f.id, f.descriptor <-> r.descriptor) AS best
            WHERE f.id = best.id""",
        params,
    )


def list_people(db: Database, user_id: uuid.UUID) -> list[Person]:
    with db.transaction() as conn:
        rows = conn.execute(
            """SELECT p.id, p.name,
                      (SELECT count(*) FROM faces f WHERE f.person_id = p.id AND f.scene_id IS NULL) AS photos,
                      (SELECT count(*) FROM scene_people sp WHERE sp.person_id = p.id) AS scenes
               FROM people p WHERE p.user_id = %s ORDER BY lower(p.name), p.id""",
            (user_id,),
        ).fetchall()
    return [Person(row["id"], row["name"], row["photos"], row["scenes"]) for row in rows]


def get_person(db: Database, user_id: uuid.UUID, person_id: int) -> Person:
    found = [p for p in list_people(db, user_id) if p.id == person_id]
    if not found:
        raise NotFound("person", person_id)
    return found[0]


def rename_person(db: Database, user_id: uuid.UUID, person_id: int, name: str) -> Person:
    with db.transaction() as conn:
        if conn.execute("UPDATE people SET name = %s WHERE id = %s AND user_id = %s RETURNING id", (_name(name), person_id, user_id)).fetchone() is None:
            raise NotFound("person", person_id)
    return get_person(db, user_id, person_id)


def delete_person(db: Database, user_id: uuid.UUID, person_id: int) -> None:
    """Forget a person: their reference faces and scene links go; faces seen in videos stay, unnamed."""
    with db.transaction() as conn:
        conn.execute(  # faces seen in videos outlive the name given to them
            "UPDATE faces SET person_id = NULL WHERE person_id = %s AND user_id = %s AND scene_id IS NOT NULL", (person_id, user_id)
        )
        if conn.execute("DELETE FROM people WHERE id = %s AND user_id = %s RETURNING id", (person_id, user_id)).fetchone() is None:
            raise NotFound("person", person_id)
        match_faces(conn, user_id)
