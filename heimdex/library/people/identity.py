"""Who is who, on descriptors alone: nearest reference, clusters of strangers, a split in two.

Pure functions over 128-d dlib descriptors (rows of float32 arrays), where a
Euclidean distance under about 0.6 means the same person.
"""

from __future__ import annotations

import numpy as np

CHUNK = 4096  # faces compared with all references at a time (bounds memory)
DIM = 128


def matrix(descriptors: list) -> np.ndarray:
    """Descriptors as read from the database (pgvector ``Vector``s or arrays) as one float32 matrix."""
    rows = [d.to_numpy() if hasattr(d, "to_numpy") else d for d in descriptors]
    return np.array(rows, dtype=np.float32).reshape(len(rows), DIM)


def nearest(faces: np.ndarray, references: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each face, the index of its closest reference and the distance to it."""
    if len(faces) == 0 or len(references) == 0:
        return np.full(len(faces), -1), np.full(len(faces), np.inf)
    index, distance = [], []
    for start in range(0, len(faces), CHUNK):
        block = faces[start : start + CHUNK]
        squared = (block**2).sum(1)[:, None] - 2 * block @ references.T + (references**2).sum(1)[None, :]
        best = squared.argmin(1)
        index.append(best)
        distance.append(np.sqrt(np.maximum(squared[np.arange(len(block)), best], 0)))
    return np.concatenate(index), np.concatenate(distance)


def clusters(faces: np.ndarray, distance: float, min_faces: int = 2) -> np.ndarray:
    """DBSCAN labels (``-1``: a face like no other yet) for faces of people not known yet."""
    from sklearn.cluster import DBSCAN

    if len(faces) < min_faces:
        return np.full(len(faces), -1)
    return DBSCAN(eps=distance, min_samples=min_faces).fit_predict(faces)


def two_groups(faces: np.ndarray) -> np.ndarray:
    """Labels 0/1 that split the faces into the two most distinct groups (2-means)."""
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=2, n_init=10, random_state=0).fit_predict(faces)  # pyright: ignore[reportArgumentType]


def representatives(faces: np.ndarray, quality: np.ndarray, count: int) -> np.ndarray:
    """Indexes of up to ``count`` faces that stand for a group: the clearest first, then spread out."""
    order = list(np.argsort(-quality, kind="stable"))
    chosen = [order.pop(0)]
    while order and len(chosen) < count:  # farthest-point: each next face is the least like those chosen
        gaps = np.linalg.norm(faces[order][:, None, :] - faces[chosen][None, :, :], axis=2).min(1)
        chosen.append(order.pop(int(gaps.argmax())))
    return np.array(chosen)
