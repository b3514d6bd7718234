"""Keep a user's faces, people and suggested people consistent after any change.

``refresh`` names every face seen in the user's videos after its closest reference
face (any person's, under ``HEIMDEX_FACE_MATCH_DISTANCE``), records which scenes show
whom, and clusters the faces nobody claims into suggested (unnamed) people. Drawn faces
(cartoons, caricatures: :func:`heimdex.perception.faces.is_drawn`) never found a suggestion,
and a suggestion left with drawn faces only is dropped; a named person keeps every face. It is
incremental: earlier suggestions keep their reference faces, so new faces join them
by matching, and only the still-unknown faces are clustered again. It runs after
every commit of a video's index and every edit of a person, never re-running the
video pipeline.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import numpy as np

from heimdex.config import get_settings
from heimdex.db import Conn, one
from heimdex.library.people.identity import clusters, matrix, nearest, representatives
from heimdex.perception.faces import is_drawn

SUGGESTION_REFERENCES = 8  # faces kept to stand for a suggested person
MIN_CLUSTER_QUALITY = 0.5  # blurred or tiny faces (under ~50 px) join people but never found one


def refresh(conn: Conn, user_id: uuid.UUID) -> None:
    """Re-match all the user's faces, suggest people for the unknown ones, drop empty suggestions."""
    settings = get_settings()
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", (str(user_id),)
    )  # one refresh per user at a time
    seen = _scene_faces(conn, user_id)
    person, distance, named = _match(conn, user_id, seen["descriptor"], settings.face_match_distance)
    unknown = np.flatnonzero((person < 0) & (seen["quality"] >= MIN_CLUSTER_QUALITY) & ~seen["drawn"])
    labels = clusters(seen["descriptor"][unknown], settings.face_cluster_distance)
    for label in sorted(set(labels) - {-1}):
        members = unknown[labels == label]
        person[members] = _suggest(conn, user_id, seen, members)
        distance[members] = 0.0
    person, distance = by_track(seen["track_key"], person, distance, named)
    person, distance = without_drawn_suggestions(person, distance, seen["drawn"], _named_people(conn, user_id))
    _write(conn, user_id, seen, person, distance)
    conn.execute(
        """DELETE FROM people p WHERE p.user_id = %s AND p.name IS NULL
           AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.person_id = p.id AND f.scene_id IS NOT NULL)""",
        (user_id,),
    )


def _scene_faces(conn: Conn, user_id: uuid.UUID) -> dict[str, Any]:
    rows = conn.execute(
        """SELECT f.id, f.scene_id, f.track, s.video_id, f.box, f.t, f.quality, f.descriptor, f.drawn
           FROM faces f JOIN scenes s ON s.id = f.scene_id WHERE f.user_id = %s ORDER BY f.id""",
        (user_id,),
    ).fetchall()
    return {
        "id": np.array([r["id"] for r in rows], dtype=np.int64),
        "scene": np.array([r["scene_id"] for r in rows], dtype=np.int64),
        "track": [r["track"] for r in rows],
        "track_key": [(r["scene_id"], r["track"]) if r["track"] is not None else None for r in rows],
        "video": [r["video_id"] for r in rows],
        "box": [r["box"] for r in rows],
        "t": [r["t"] for r in rows],
        "quality": np.array([r["quality"] for r in rows], dtype=np.float32),
        "descriptor": matrix([r["descriptor"] for r in rows]),
        "drawn": np.array([is_drawn(r["drawn"]) for r in rows], dtype=bool),
    }


def _named_people(conn: Conn, user_id: uuid.UUID) -> set[int]:
    rows = conn.execute("SELECT id FROM people WHERE user_id = %s AND name IS NOT NULL", (user_id,)).fetchall()
    return {r["id"] for r in rows}


def _match(
    conn: Conn, user_id: uuid.UUID, faces: np.ndarray, limit: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each face's closest person under ``limit`` (``-1`` for none), the distance, and whether that person
    is named. Named people first, so a person enrolled later takes their faces back from the suggestion
    they had been clustered into."""
    rows = conn.execute(
        """SELECT f.person_id, f.descriptor, p.name IS NOT NULL AS named FROM faces f JOIN people p ON p.id = f.person_id
           WHERE f.user_id = %s AND f.scene_id IS NULL""",
        (user_id,),
    ).fetchall()
    person = np.full(len(faces), -1, dtype=np.int64)
    distance = np.full(len(faces), np.inf)
    named = np.zeros(len(faces), dtype=bool)
    for of_named in (True, False):
        chosen = [r for r in rows if r["named"] is of_named]
        owners = np.array([r["person_id"] for r in chosen], dtype=np.int64)
        index, found = nearest(faces, matrix([r["descriptor"] for r in chosen]))
        take = (person < 0) & (index >= 0) & (found < limit)
        person[take], distance[take], named[take] = owners[index[take]], found[take], of_named
        distance = np.where(person < 0, np.minimum(distance, found), distance)
    return person, distance, named


def by_track(
    tracks: list, person: np.ndarray, distance: np.ndarray, named: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every face of a track given to the person most of its faces match (the closest on a tie), a named
    person before any suggestion (``named``: the face matched a named person): a turned or blurred face of
    a track someone was recognised in is that someone too."""
    person, distance = person.copy(), distance.copy()
    groups: dict[object, list[int]] = {}
    for i, key in enumerate(tracks):
        if key is not None:
            groups.setdefault(key, []).append(i)
    for members in groups.values():
        voters = [i for i in members if named[i]] or [i for i in members if person[i] >= 0]
        if not voters:
            continue
        votes = Counter(int(person[i]) for i in voters)
        winner = min(votes, key=lambda p: (-votes[p], min(distance[i] for i in voters if person[i] == p)))
        closest = min(distance[i] for i in voters if person[i] == winner)
        for i in members:
            if person[i] != winner:
                person[i], distance[i] = winner, closest
    return person, distance


def without_drawn_suggestions(
    person: np.ndarray, distance: np.ndarray, drawn: np.ndarray, named: set[int]
) -> tuple[np.ndarray, np.ndarray]:
    """The faces of each suggestion (a person not in ``named``) all of whose faces are drawn, given to nobody:
    such a suggestion is a cartoon, and goes once it has no faces. Named people keep every face."""
    person, distance = person.copy(), distance.copy()
    for suggestion in set(person[person >= 0].tolist()) - named:
        faces = person == suggestion
        if drawn[faces].all():
            person[faces], distance[faces] = -1, np.inf
    return person, distance


def _suggest(conn: Conn, user_id: uuid.UUID, seen: dict, members: np.ndarray) -> int:
    """A new unnamed person standing for ``members`` (indexes into ``seen``); return its id."""
    person_id = one(conn.execute("INSERT INTO people (user_id) VALUES (%s) RETURNING id", (user_id,)).fetchone())["id"]
    chosen = members[representatives(seen["descriptor"][members], seen["quality"][members], SUGGESTION_REFERENCES)]
    copy_references(conn, user_id, person_id, [int(seen["id"][i]) for i in chosen])
    return person_id


def copy_references(conn: Conn, user_id: uuid.UUID, person_id: int, face_ids: list[int]) -> int:
    """Make the user's scene faces ``face_ids`` reference faces of the person (they go with their video)."""
    return conn.execute(
        """INSERT INTO faces (user_id, person_id, video_id, box, descriptor, quality, t, drawn)
           SELECT f.user_id, %s, s.video_id, f.box, f.descriptor, f.quality, f.t, f.drawn
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
    conn.execute(  # a scene shows each person one of its faces was named after: at the closest, when, doing what
        """INSERT INTO scene_people (scene_id, person_id, distance, seen, actions)
           SELECT m.scene_id, m.person_id, min(m.distance),
                  coalesce(jsonb_agg(DISTINCT jsonb_build_array(t.start_s, t.end_s)) FILTER (WHERE t.idx IS NOT NULL), '[]'),
                  coalesce(array_agg(DISTINCT a.tag) FILTER (WHERE a.tag IS NOT NULL), '{}')
           FROM unnest(%s::bigint[], %s::bigint[], %s::real[], %s::int[]) AS m(scene_id, person_id, distance, track)
                LEFT JOIN face_tracks t ON t.scene_id = m.scene_id AND t.idx = m.track AND t.user_id = %s
                LEFT JOIN LATERAL jsonb_to_recordset(t.actions) AS a(tag text) ON true
           GROUP BY m.scene_id, m.person_id""",
        (
            seen["scene"][named].tolist(),
            person[named].tolist(),
            distance[named].astype(float).tolist(),
            [seen["track"][i] for i in np.flatnonzero(named)],
            user_id,
        ),
    )
