"""The last step, commit: a video's index replaces the previous one inside the caller's transaction.

Blobs (keyframes, the sidecar) are written under the run's own prefix before the
transaction; the rows that point at them appear in it, together with the switch of
``videos.index_run`` (:func:`heimdex.states.mark_indexed`, in the same transaction).
Readers see the old index or the new one, never a mix, and the previous run's blobs
are removed only after the switch.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from heimdex.db import Conn, one
from heimdex.db.vectors import ensure_vector_index
from heimdex.errors import NotFound
from heimdex.library.people.matching import refresh
from heimdex.pipeline.index import Scene, Vectors, VideoIndex
from heimdex.storage import BlobStore, run_prefix

SIDECAR = "index.json"


def sidecar_key(user_id: uuid.UUID, video_id: uuid.UUID, run: str) -> str:
    return run_prefix(user_id, video_id, run) + SIDECAR


def write_sidecar(store: BlobStore, user_id: uuid.UUID, index: VideoIndex) -> str:
    """Store the index document beside the run's keyframes; return its key."""
    key = sidecar_key(user_id, uuid.UUID(index.video_id), index.run)
    store.put(key, io.BytesIO(index.to_json()))
    return key


def read_sidecar(store: BlobStore, user_id: uuid.UUID, video_id: uuid.UUID, run: str) -> VideoIndex:
    """The document of a committed run."""
    with store.open(sidecar_key(user_id, video_id, run)) as blob:
        return VideoIndex.from_json(blob.read())


def commit_index(conn: Conn, video_id: uuid.UUID, index: VideoIndex) -> str | None:
    """Replace the video's shots, scenes and vectors with ``index`` (the video row locked); return the run it had.
    :class:`NotFound` for a video deleted or put in the Trash while it was indexed: nothing is written."""
    row = conn.execute(
        "SELECT index_run, user_id FROM videos WHERE id = %s AND trashed_at IS NULL FOR UPDATE", (video_id,)
    ).fetchone()
    if row is None:
        raise NotFound("video", video_id)
    conn.execute("DELETE FROM shots WHERE video_id = %s", (video_id,))
    conn.execute("DELETE FROM scenes WHERE video_id = %s", (video_id,))
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO shots (video_id, idx, start_s, end_s, cut) VALUES (%s, %s, %s, %s, %s)",
            [(video_id, i, shot.start_s, shot.end_s, shot.cut) for i, shot in enumerate(index.shots)],
        )
    scene_ids = {}
    for scene in index.scenes:
        scene_ids[scene.idx] = one(
            conn.execute(
                """INSERT INTO scenes (video_id, user_id, idx, start_s, end_s, transcript, words, ocr_text, ocr_lines,
                                  tags, tag_text, caption, keyframe_key, keyframes)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
                (
                    video_id,
                    row["user_id"],
                    scene.idx,
                    scene.start_s,
                    scene.end_s,
                    scene.transcript,
                    Jsonb([{"w": w.text, "s": w.start, "e": w.end} for w in scene.words]),
                    scene.ocr_text,
                    Jsonb(dated_lines(scene)),
                    Jsonb([tag.as_dict() for tag in scene.tags]),
                    scene.tag_text,
                    scene.caption,
                    scene.thumbnail,
                    Jsonb([{"t": k.t, "key": k.key} for k in scene.keyframes]),
                ),
            ).fetchone()
        )["id"]
    faces = [
        (
            row["user_id"],
            scene_ids[scene.idx],
            list(face.box),
            np.array(face.descriptor, dtype=np.float32),
            face.quality,
            face.t,
            face.crop,
            face.track,
            face.drawn,
        )
        for scene in index.scenes
        for face in scene.faces
    ]
    tracks = [
        (
            scene_ids[scene.idx],
            track.idx,
            row["user_id"],
            track.start_s,
            track.end_s,
            Jsonb([a.as_dict() for a in track.actions]),
        )
        for scene in index.scenes
        for track in scene.tracks
    ]
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO face_tracks (scene_id, idx, user_id, start_s, end_s, actions) VALUES (%s, %s, %s, %s, %s, %s)",
            tracks,
        )
        cursor.executemany(
            """INSERT INTO faces (user_id, scene_id, box, descriptor, quality, t, crop, track, drawn)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            faces,
        )
    refresh(conn, row["user_id"])  # the new faces meet the user's people; strangers are clustered
    for vectors in index.vectors:
        model_id = _model_id(conn, vectors)
        with conn.cursor() as cursor:
            cursor.executemany(
                """INSERT INTO scene_vectors (scene_id, user_id, model_id, channel, chunk, embedding)
                   VALUES (%s, %s, %s, %s, %s, %s)""",
                [
                    (scene_ids[idx], row["user_id"], model_id, vectors.channel, chunk, embedding)
                    for idx, chunk, embedding in zip(vectors.scene_idx, vectors.chunk, vectors.rows)
                ],
            )
    return row["index_run"]


def _model_id(conn, vectors: Vectors) -> int:
    """The ``embedding_models`` row of the vectors' model (created on first use, with its vector index)."""
    created = conn.execute(
        "INSERT INTO embedding_models (name, version, dim) VALUES (%s, %s, %s) ON CONFLICT (name, version) DO NOTHING",
        (vectors.model, vectors.version, vectors.dim),
    ).rowcount
    row = conn.execute(
        "SELECT id, dim FROM embedding_models WHERE name = %s AND version = %s", (vectors.model, vectors.version)
    ).fetchone()
    if row["dim"] != vectors.dim:
        raise ValueError(
            f"model {vectors.model} {vectors.version} is registered with {row['dim']} dimensions, not {vectors.dim}"
        )
    if created:
        ensure_vector_index(conn, row["id"], row["dim"])
    return row["id"]


def dated_lines(scene: Scene) -> list[dict[str, Any]]:
    """The scene's on-screen lines with when each shows, or none when a line is undated (a sidecar written before
    lines were dated): search then falls back to the scene, rather than start at the keyframe a line was read on."""
    if any(line.first_s is None or line.last_s is None for line in scene.ocr):
        return []
    return [{"text": line.text, "s": line.first_s, "e": line.last_s} for line in scene.ocr]
