"""Keep a user's faces, people and suggested people consistent after any change.

``refresh`` names every face seen in the user's videos after its closest reference
face (any person's, under ``HEIMDEX_FACE_MATCH_DISTANCE``), records which scenes show
whom, and clusters the faces nobody claims into suggested (unnamed) people. It is
incremental: earlier suggestions keep their reference faces, so new faces join them
by matching, and only the still-unknown faces are clustered again. It runs after
every commit of a video's index and every edit of a person, never re-running the
video pipeline.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from heimdex.config import get_settings
from heimdex.db import Conn, one
from heimdex.people.identity import clusters, matrix, nearest, representatives

SUGGESTION_REFERENCES = 8  # faces kept to stand for a suggested person
MIN_CLUSTER_QUALITY = 0.5  # blurred or tiny faces (under ~50 px) join people but never found one


def refresh(conn: Conn, user_id: uuid.UUID) -> None:
    """Re-match all the user's faces, suggest people for the unknown ones, drop empty suggestions."""
    settings = get_settings()
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", (str(user_id),)
    )  # one refresh per user at a time
    seen = _scene_faces(conn, user_id)
    person, distance = _match(conn, user_id, seen["descriptor"], settings.face_match_distance)
    unknown = np.flatnonzero((person < 0) & (seen["quality"] >= MIN_CLUSTER_QUALITY))
    labels = clusters(seen["descriptor"][unknown], settings.face_cluster_distance)
    for label in sorted(set(labels) - {-1}):
        members = unknown[labels == label]
        person[members] = _suggest(conn, user_id, seen, members)
        distance[members] = 0.0
    _write(conn, user_id, seen, person, distance)
    conn.execute(
        """DELETE FROM people p WHERE p.user_id = %s AND p.name IS NULL
           AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.person_id = p.id AND f.scene_id IS NULL)""",
        (user_id,),
    )


def _scene_faces(conn: Conn, user_id: uuid.UUID) -> dict[str, Any]:
    rows = conn.execute(
        """SELECT f.id, f.scene_id, s.video_id, f.box, f.t, f.quality, f.descriptor
           FROM faces f JOIN scenes s ON s.id = f.scene_id WHERE f.user_id = %s ORDER BY f.id""",
        (user_id,),
    ).fetchall()
    return {
        "id": np.array([r["id"] for r in rows], dtype=np.int64),
        "scene": np.array([r["scene_id"] for r in rows], dtype=np.int64),
        "video": [r["video_id"] for r in rows],
        "box": [r["box"] for r in rows],
        "t": [r["t"] for r in rows],
        "quality": np.array([r["quality"] for r in rows], dtype=np.float32),
        "descriptor": matrix([r["descriptor"] for r in rows]),
    }


def _match(conn: Conn, user_id: uuid.UUID, faces: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """Each face's closest person under ``limit`` (``-1`` for none) and the distance."""
    rows = conn.execute(
        "SELECT person_id, descriptor FROM faces WHERE user_id = %s AND scene_id IS NULL AND person_id IS NOT NULL",
        (user_id,),
    ).fetchall()
    owners = np.array([r["person_id"] for r in rows], dtype=np.int64)
    references = matrix([r["descriptor"] for r in rows])
    index, distance = nearest(faces, references)
    person = np.where((index >= 0) & (distance < limit), owners[index] if len(owners) else -1, -1)
    return person.astype(np.int64), distance


def _suggest(conn: Conn, user_id: uuid.UUID, seen: dict, members: np.ndarray) -> int:
    """A new unnamed person standing for ``members`` (indexes into ``seen``); return its id."""
    person_id = one(conn.execute("INSERT INTO people (user_id) VALUES (%s) RETURNING id", (user_id,)).fetchone())["id"]
    chosen = members[representatives(seen["descriptor"][members], seen["quality"][members], SUGGESTION_REFERENCES)]
    copy_references(conn, user_id, person_id, [int(seen["id"][i]) for i in chosen])
    return person_id


def copy_references(conn: Conn, user_id: uuid.UUID, person_id: int, face_ids: list[int]) -> int:
    """Make the user's scene faces ``face_ids`` reference faces of the person (they go with their video)."""
    return conn.execute(
        """INSERT INTO faces (user_id, person_id, video_id, box, descriptor, quality, t)
           SELECT f.user_id, %s, s.video_id, f.box, f.descriptor, f.quality, f.t
           FROM faces f JOIN scenes s ON s.id = f.scene_id WHERE f.user_id = %s AND f.id = ANY(%s)""",
        (person_id, user_id, face_ids),
    ).rowcount


def _write(conn: Conn, user_id: uuid.UUID, seen: dict, person: np.ndarray, distance: np.ndarray) -> None:
    named = person >= 0
    conn.execute(
        """UPDATE faces f SET person_id = m.person_id
           FROM unnest(%s::bigint[], %s::bigint[]) AS m(id, person_id)
           WHERE f.id = m.id AND f.person_id IS DISTINCT FROM m.person_id""",
        (seen["id"].tolist(), [int(p) if p >= 0 else None for p in person]),
    )
    conn.execute("DELETE FROM scene_people sp USING scenes s WHERE s.id = sp.scene_id AND s.user_id = %s", (user_id,))
    conn.execute(  # a scene shows each person one of its faces was named after, at the closest
        """INSERT INTO scene_people (scene_id, person_id, distance)
           SELECT scene_id, person_id, min(distance) FROM unnest(%s::bigint[], %s::bigint[], %s::real[]) AS m(scene_id, person_id, distance)
           GROUP BY scene_id, person_id""",
        (seen["scene"][named].tolist(), person[named].tolist(), distance[named].astype(float).tolist()),
    )
