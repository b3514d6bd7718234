"""Benchmark search on a synthetic library: 100k, then 1M scenes across 1,000 users.

    python -m eval.bench_search [--scales 100000,1000000] [--users 1000] [--queries 300]

The library is made to look like a real one: scene texts are drawn from real
sentences (the bilingual eval set, the labeled queries, the speech and screen
text of the shared media), and each vector is the real model's embedding of one
of those texts blended with another and with noise, so vectors cluster the way
real ones do. About half the scenes have speech (whole + one piece), a fifth have
screen text, all have tags. Rows go in with binary COPY into a throwaway
embedded Postgres. Then, in the same run and for each scale:

- p50/p95/p99 latency of the full hybrid ``search()`` for random users and queries,
- queries per second with 8 concurrent clients,
- the time of the query encoding alone and of one vector lookup (the vector SQL) alone,
- p95 against 2x (encode + one lookup).

It also times the per-user exact scan at growing library sizes for one user, to
show where an ANN index would start to pay (the "crossover" in the README).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

SETS = Path(__file__).resolve().parent / "sets"
SCENES_PER_VIDEO = 100  # a 10-minute video cut into 6-second scenes
TAGS = [
    "person",
    "car",
    "white car",
    "red car",
    "bottle",
    "table",
    "chair",
    "dark",
    "at night",
    "several people",
    "television",
    "computer monitor",
    "footwear",
    "standing",
    "sitting",
    "smiling",
    "tree",
    "dog",
    "bicycle",
    "bright",
]
SPEECH = [
    "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.",
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this software.",
    "Subject to the following conditions, the above copyright notice shall be included in all copies.",
    "Dies umfasst insbesondere das Recht, die Software zu verwenden und zu veröffentlichen.",
]


def corpus() -> list[str]:
    texts = list(SPEECH)
    for line in (SETS / "bilingual_text.jsonl").read_text().splitlines():
        item = json.loads(line)
        texts += [item["en"], item["ko"]]
    texts += [json.loads(line)["query"] for line in (SETS / "queries.jsonl").read_text().splitlines()]
    return texts


def queries() -> list[str]:
    return [json.loads(line)["query"] for line in (SETS / "queries.jsonl").read_text().splitlines()]


class Library:
    """Builds the synthetic rows, in batches, into the database."""

    def __init__(self, db, embedder, users: int, seed: int = 7):
        self.db, self.embedder = db, embedder
        self.rng = np.random.default_rng(seed)
        self.texts = corpus()
        self.pool = embedder.embed_passages(self.texts)
        self.users = [uuid.UUID(int=random.Random(seed + i).getrandbits(128)) for i in range(users)]
        self.owner: dict[uuid.UUID, uuid.UUID] = {}  # video → user
        self.scenes = 0
        self._tags: dict[str, np.ndarray] = {}
        info = embedder.info
        self.model = (info.name, info.version)
        with db.transaction() as conn:
            conn.execute(
                "INSERT INTO embedding_models (name, version, dim) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (info.name, info.version, info.dim),
            )
            self.model_id = conn.execute(
                "SELECT id FROM embedding_models WHERE name = %s AND version = %s", (info.name, info.version)
            ).fetchone()["id"]
            for n, user in enumerate(self.users):
                conn.execute("INSERT INTO users (id, email) VALUES (%s, %s)", (user, f"bench{n}@example.com"))

    def _new_video(self, conn) -> tuple[uuid.UUID, uuid.UUID]:
        video, user = uuid.uuid4(), self.users[int(self.rng.integers(len(self.users)))]
        conn.execute(
            """INSERT INTO videos (id, user_id, title, filename, sha256, size_bytes, blob_key, container,
                   duration_s, width, height, video_codec, has_audio, state, spoken_language)
               VALUES (%s, %s, %s, %s, %s, 1000, 'x', 'mp4', 600, 1920, 1080, 'h264', true, 'indexed', 'en')""",
            (video, user, f"video {len(self.owner)}", f"video{len(self.owner)}.mp4", video.hex * 2),
        )
        self.owner[video] = user
        return video, user

    def _vectors(self, text_index: np.ndarray) -> np.ndarray:
        """Real embeddings of ``text_index`` blended with a random other text and noise, normalised."""
        other = self.rng.integers(len(self.pool), size=len(text_index))
        rows = (
            self.pool[text_index]
            + 0.35 * self.pool[other]
            + self.rng.normal(0, 0.03, (len(text_index), self.pool.shape[1]))
        )
        return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)

    def _tag_vectors(self, tag_sets: list[list[str]]) -> np.ndarray:
        keys = [", ".join(sorted(tags)) for tags in tag_sets]
        missing = sorted(set(keys) - set(self._tags))
        if missing:
            self._tags.update(zip(missing, self.embedder.embed_passages(missing)))
        rows = np.stack([self._tags[key] for key in keys]) + self.rng.normal(0, 0.02, (len(keys), self.pool.shape[1]))
        return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)

    def grow(self, total: int, batch: int = 20_000) -> float:
        """Add scenes until there are ``total``; return the seconds it took."""
        started = time.perf_counter()
        while self.scenes < total:
            self._add(min(batch, total - self.scenes))
        with self.db.transaction() as conn:
            conn.execute(f"SELECT setval('scenes_id_seq', {self.scenes})")
            conn.execute("ANALYZE scenes")
            conn.execute("ANALYZE scene_vectors")
        return time.perf_counter() - started

    def _add(self, count: int) -> None:
        ids = np.arange(self.scenes + 1, self.scenes + count + 1)
        speech = self.rng.random(count) < 0.5
        screen = self.rng.random(count) < 0.2
        said = self.rng.integers(len(self.texts), size=count)
        shown = self.rng.integers(len(self.texts), size=count)
        tag_sets = [list(self.rng.choice(TAGS, size=4, replace=False)) for _ in range(count)]
        spoken, spoken_piece, written = self._vectors(said), self._vectors(said), self._vectors(shown)
        tagged = self._tag_vectors(tag_sets)
        with self.db.transaction() as conn:
            owners = []
            for scene_id in ids.tolist():
                if (scene_id - 1) % SCENES_PER_VIDEO == 0:
                    current = self._new_video(conn)
                owners.append(current)
            with conn.cursor().copy(
                "COPY scenes (id, video_id, user_id, idx, start_s, end_s, transcript, ocr_text, tags, tag_text) FROM STDIN"
            ) as copy:
                for i, scene_id in enumerate(ids.tolist()):
                    video, user = owners[i]
                    idx = (scene_id - 1) % SCENES_PER_VIDEO
                    copy.write_row(
                        (
                            scene_id,
                            video,
                            user,
                            idx,
                            idx * 6.0,
                            idx * 6.0 + 6.0,
                            self.texts[said[i]] if speech[i] else "",
                            self.texts[shown[i]] if screen[i] else "",
                            json.dumps([{"tag": t, "confidence": 0.8, "source": "objects"} for t in tag_sets[i]]),
                            ", ".join(tag_sets[i]),
                        )
                    )
            with conn.cursor().copy(
                "COPY scene_vectors (scene_id, user_id, model_id, channel, chunk, embedding) FROM STDIN WITH (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["bigint", "uuid", "integer", "text", "smallint", "vector"])
                for i, scene_id in enumerate(ids.tolist()):
                    user = owners[i][1]
                    if speech[i]:
                        copy.write_row((scene_id, user, self.model_id, "transcript", 0, spoken[i]))
                        copy.write_row((scene_id, user, self.model_id, "transcript", 1, spoken_piece[i]))
                    if screen[i]:
                        copy.write_row((scene_id, user, self.model_id, "ocr", 0, written[i]))
                    copy.write_row((scene_id, user, self.model_id, "tags", 0, tagged[i]))
        self.scenes += count


def percentile(values: list[float], pct: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(pct / 100 * len(values) + 0.5)) - 1))]


def measure(db, library: Library, registry, count: int) -> dict:
    from heimdex.search import SearchFilters, search
    from heimdex.search.channels import TEXT_SIGNALS, vector_scores

    texts = queries()
    rng = random.Random(11)
    owners = sorted(set(library.owner.values()))  # users with at least one video
    plan = [(rng.choice(owners), rng.choice(texts)) for _ in range(count)]
    embedder = registry.get("text")
    for user, text in plan[:20]:  # warm caches and the model
        search(db, user, text, registry=registry)
    latencies = []
    for user, text in plan:
        started = time.perf_counter()
        search(db, user, text, registry=registry)
        latencies.append((time.perf_counter() - started) * 1000)
    encode, lookup = [], []
    for user, text in plan:
        started = time.perf_counter()
        vector = embedder.embed_queries([text])[0]
        encode.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        with db.transaction() as conn:
            vector_scores(conn, user, library.model, vector, TEXT_SIGNALS, SearchFilters())
        lookup.append((time.perf_counter() - started) * 1000)
    done, lock = [0], threading.Lock()

    def client(offset: int) -> None:
        for user, text in plan[offset::8]:
            search(db, user, text, registry=registry)
            with lock:
                done[0] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(client, range(8)))
    qps = done[0] / (time.perf_counter() - started)
    return {
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "qps8": qps,
        "encode_p50": statistics.median(encode),
        "lookup_p50": statistics.median(lookup),
        "encode_p95": percentile(encode, 95),
        "lookup_p95": percentile(lookup, 95),
    }


def crossover(db, library: Library, registry, sizes=(1_000, 10_000, 50_000, 100_000)) -> list[tuple[int, float]]:
    """Exact-scan time of one user's vectors as that user's library grows (a user of its own)."""
    from heimdex.search.channels import TEXT_SIGNALS, SearchFilters, vector_scores

    user = uuid.uuid4()
    video = uuid.uuid4()
    with db.transaction() as conn:
        conn.execute("INSERT INTO users (id, email) VALUES (%s, 'crossover@example.com')", (user,))
        conn.execute(
            """INSERT INTO videos (id, user_id, title, filename, sha256, size_bytes, blob_key, container,
                   duration_s, width, height, video_codec, has_audio, state)
               VALUES (%s, %s, 'big', 'big.mp4', %s, 1, 'x', 'mp4', 600, 1, 1, 'h264', false, 'indexed')""",
            (video, user, "f" * 64),
        )
    vector = registry.get("text").embed_queries(["red car at night"])[0]
    results, have = [], 0
    for size in sizes:
        rows = library._vectors(np.arange(size - have) % len(library.texts))
        with db.transaction() as conn:
            start_id = conn.execute("SELECT max(id) AS m FROM scenes").fetchone()["m"] + 1
            with conn.cursor().copy("COPY scenes (id, video_id, user_id, idx, start_s, end_s) FROM STDIN") as copy:
                for i in range(size - have):
                    copy.write_row((start_id + i, video, user, have + i, float(i), float(i) + 1))
            with conn.cursor().copy(
                "COPY scene_vectors (scene_id, user_id, model_id, channel, chunk, embedding) FROM STDIN WITH (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["bigint", "uuid", "integer", "text", "smallint", "vector"])
                for i in range(size - have):
                    copy.write_row((start_id + i, user, library.model_id, "tags", 0, rows[i]))
            conn.execute(f"SELECT setval('scenes_id_seq', {start_id + size - have})")
            conn.execute("ANALYZE scene_vectors")
        have = size
        times = []
        for _ in range(7):
            started = time.perf_counter()
            with db.transaction() as conn:
                vector_scores(conn, user, library.model, vector, TEXT_SIGNALS, SearchFilters())
            times.append((time.perf_counter() - started) * 1000)
        results.append((size, statistics.median(times)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="100000,1000000")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--no-crossover", action="store_true")
    args = parser.parse_args()

    os.environ["HEIMDEX_DATA_DIR"] = tempfile.mkdtemp(prefix="heimdex-bench-search-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("HEIMDEX_DB_POOL_SIZE", "10")
    from heimdex.db import get_database
    from heimdex.models.registry import get_registry

    registry = get_registry()
    db = get_database()
    library = Library(db, registry.get("text"), args.users)
    print(f"cpus: {os.cpu_count()}, users: {args.users}, text model: {registry.info('text').name}")
    print(
        "\n| scenes | build s | p50 ms | p95 ms | p99 ms | QPS (8 clients) | encode p50 ms | lookup p50 ms | p95 / 2x(encode+lookup) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for scale in (int(s) for s in args.scales.split(",")):
        built = library.grow(scale)
        m = measure(db, library, registry, args.queries)
        budget = 2 * (m["encode_p50"] + m["lookup_p50"])
        print(
            f"| {scale:,} | {built:.0f} | {m['p50']:.1f} | {m['p95']:.1f} | {m['p99']:.1f} | {m['qps8']:.0f} | "
            f"{m['encode_p50']:.1f} | {m['lookup_p50']:.1f} | {m['p95'] / budget:.2f} |",
            flush=True,
        )
    if not args.no_crossover:
        print("\none user's exact vector scan as their library grows:\n\n| that user's scenes | scan ms |\n|---|---|")
        for size, ms in crossover(db, library, registry):
            print(f"| {size:,} | {ms:.1f} |")


if __name__ == "__main__":
    main()
