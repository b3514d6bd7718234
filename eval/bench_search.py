"""Benchmark search on a synthetic library: a crowd of 1,000 users, then one heavy user growing beside it.

    python -m eval.bench_search [--scales 100000] [--heavy-user 10000,100000,300000]
                                [--library prose|words|sentences] [--choose-at N] [--graph-at N] [--full-at N] [--json]

Three libraries (``--library``):

- ``prose`` (the default, realistic): real English, the documentation that ships with this Python
  (:mod:`eval.prose`: about 250,000 sentences, a vocabulary of over 100,000 words), embedded by the
  app's own text model (:class:`ProseLibrary`). Speech is a window of 8 to 20 words on it, screen
  text 2 to 5. Its queries: 200 of 2 to 4 words of sentences the library does not hold;
- ``words`` (a stress case for the graph): a synthetic language of 24,000 made-up words of Zipf
  frequency in 400 topics (:class:`Words`). Speech is 8 to 20 words, screen text 2 to 5, each
  vector its text's (rarer words weigh more, a word's vector lies near its topic's), so texts
  that share words or topics are neighbours; its vectors are far harder for an HNSW graph than
  a real model's. Its queries: 200 of 2 to 4 words of the language;
- ``sentences`` (a stress case for common words): a few hundred real sentences (the bilingual
  eval set, the labelled queries, the shared media's speech), each vector the real model's
  embedding blended with another and noise, repeated hundreds of times. Its queries: the labelled
  ones.

About half the scenes have speech, a fifth screen text, all have tags. Rows go in with binary COPY
into a throwaway embedded Postgres. For the crowd, at each scale: search p50/p95/p99, queries per
second with 8 clients, the query encoding and one vector lookup. For the heavy user, at each size:
search as the user gets it, search recall@10 (the index path against the exact one), the exact
scan and the index lookup alone, the lookup's recall@10 at several ef_search, the index build
and size, what is on disk, and the cost of adding one video. The reported figures use the odd half
of the queries; the even half chooses the settings (``--choose-at``: candidates and the words'
budget; ``--graph-at``: HNSW m, ef_construction and ef_search).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
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
        self.texts = self.corpus()
        self.pool = embedder.embed_passages(self.texts)
        self.users = [uuid.UUID(int=random.Random(seed + i).getrandbits(128)) for i in range(users)]
        self.owner: dict[uuid.UUID, uuid.UUID] = {}  # video → user
        self.scenes = 0
        self._tags: dict[str, np.ndarray] = {}
        info = embedder.info
        self.model = (info.name, info.version)
        self.registry = None  # the app's own models; a library of its own language brings its own
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

    def corpus(self) -> list[str]:
        return corpus()

    def queries(self) -> list[str]:
        """The labelled queries (eval/sets/queries.jsonl)."""
        return queries()

    def _new_video(self, conn, user: uuid.UUID | None = None) -> tuple[uuid.UUID, uuid.UUID]:
        video, user = uuid.uuid4(), user or self.users[int(self.rng.integers(len(self.users)))]
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

    tag_noise = 0.02  # each scene's copy of a tag list's vector is moved this much (0: the same list, the same vector)

    def _tag_key(self, tags: list[str]) -> str:
        return ", ".join(sorted(tags))

    def _tag_vectors(self, tag_sets: list[list[str]]) -> np.ndarray:
        keys = [self._tag_key(tags) for tags in tag_sets]
        missing = sorted(set(keys) - set(self._tags))
        if missing:
            self._tags.update(zip(missing, self.embedder.embed_passages(missing)))
        rows = np.stack([self._tags[key] for key in keys])
        if self.tag_noise:
            rows = rows + self.rng.normal(0, self.tag_noise, rows.shape)
        return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)

    def grow(self, total: int, batch: int = 20_000, user: uuid.UUID | None = None) -> float:
        """Add scenes until there are ``total`` (all ``user``'s when given); return the seconds it took."""
        started = time.perf_counter()
        while self.scenes < total:
            self._add(min(batch, total - self.scenes), user)
        with self.db.transaction() as conn:
            conn.execute(f"SELECT setval('scenes_id_seq', {self.scenes})")
        spent = time.perf_counter() - started
        settle(self.db)  # (not timed: a library grows a video at a time, and autovacuum keeps up)
        return spent

    def _draw(self, count: int) -> tuple[list[str], list[str], list[list[str]], np.ndarray, np.ndarray, np.ndarray]:
        """``count`` scenes' speech and screen text ('' for none), tags, and vectors of speech, its piece and screen
        text: real sentences, each vector the real model's of its text blended with another and with noise."""
        speech = self.rng.random(count) < 0.5
        screen = self.rng.random(count) < 0.2
        said = self.rng.integers(len(self.texts), size=count)
        shown = self.rng.integers(len(self.texts), size=count)
        tag_sets = [list(self.rng.choice(TAGS, size=4, replace=False)) for _ in range(count)]
        spoken = [self.texts[said[i]] if speech[i] else "" for i in range(count)]
        written = [self.texts[shown[i]] if screen[i] else "" for i in range(count)]
        return spoken, written, tag_sets, self._vectors(said), self._vectors(said), self._vectors(shown)

    def _add(self, count: int, user: uuid.UUID | None = None) -> None:
        ids = np.arange(self.scenes + 1, self.scenes + count + 1)
        said, shown, tag_sets, spoken, spoken_piece, written = self._draw(count)
        tagged = self._tag_vectors(tag_sets)
        with self.db.transaction() as conn:
            owners = []
            for scene_id in ids.tolist():
                if (scene_id - 1) % SCENES_PER_VIDEO == 0 or not owners and user:
                    current = self._new_video(conn, user)
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
                            said[i],
                            shown[i],
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
                    if said[i]:
                        copy.write_row((scene_id, user, self.model_id, "transcript", 0, spoken[i]))
                        copy.write_row((scene_id, user, self.model_id, "transcript", 1, spoken_piece[i]))
                    if shown[i]:
                        copy.write_row((scene_id, user, self.model_id, "ocr", 0, written[i]))
                    copy.write_row((scene_id, user, self.model_id, "tags", 0, tagged[i]))
        self.scenes += count


def settle(db) -> None:
    """The library at rest, as one in use is: the bulk load's rows vacuumed (their hint bits and visibility set) and
    its statistics read, so that no autovacuum of gigabytes of new rows runs beside the searches being timed."""
    import psycopg

    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) scenes, scene_vectors, scene_terms, library_sizes")


def function_words() -> list[str]:
    """English's stop words as PostgreSQL's full-text search drops them (its own list, from the embedded server)."""
    from heimdex.ops.backup import _bin

    stop = Path(_bin("")).parent / "share" / "postgresql" / "tsearch_data" / "english.stop"
    return [word for word in stop.read_text().split() if word]


class Words:
    """A synthetic language for a realistic library: ``size`` words of Zipf frequency, the most frequent ones
    English's function words (as in any language, and search drops them), the rest made up (two to four
    syllables), each belonging to one of ``topics`` topics, and each a vector near its topic's centre. A text's
    vector is the normalised, rarity-weighted sum of its words' (any other word: a vector of its own, from its
    hash), so texts sharing words or topics are neighbours, as real embeddings' are."""

    def __init__(self, dim: int, seed: int = 3, size: int = 24_000, topics: int = 400, exponent: float = 1.07):
        rng = np.random.default_rng(seed)
        syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
        words = dict.fromkeys(function_words())  # the head of a language's Zipf curve: "the", "and", "of", ...
        while len(words) < size:
            length = int(rng.integers(2, 5))
            words["".join(syllables[int(i)] for i in rng.integers(len(syllables), size=length))] = None
        self.words = list(words)
        self.index = {word: i for i, word in enumerate(self.words)}
        frequency = 1.0 / np.arange(1, size + 1) ** exponent
        self.frequency = frequency / frequency.sum()
        self.cumulative = np.cumsum(self.frequency)
        self.weight = np.log(1.0 / self.frequency)  # rarer words weigh more, as in IDF
        self.topic = rng.integers(topics, size=size)
        self.members = [np.flatnonzero(self.topic == t) for t in range(topics)]
        centres = rng.normal(size=(topics, dim))
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        noise = rng.normal(size=(size, dim))
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        vectors = 0.6 * centres[self.topic] + 0.8 * noise
        self.vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        self.dim, self.topics = dim, topics

    def sentence(self, rng: np.random.Generator, length: int) -> str:
        """``length`` words, half from one topic (by their frequency), half from the whole language."""
        topic = self.members[int(rng.integers(self.topics))]
        own = np.cumsum(self.frequency[topic])
        from_topic = topic[np.minimum(np.searchsorted(own, rng.random(length) * own[-1]), len(topic) - 1)]
        anywhere = np.minimum(np.searchsorted(self.cumulative, rng.random(length)), len(self.words) - 1)
        picked = np.where(rng.random(length) < 0.5, from_topic, anywhere)
        return " ".join(self.words[i] for i in picked)

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for n, text in enumerate(texts):
            for word in text.lower().replace(",", " ").split():
                i = self.index.get(word)
                if i is None:
                    own = np.random.default_rng(int.from_bytes(word.encode()[:8].ljust(8, b"_"), "little"))
                    rows[n] += own.normal(size=self.dim).astype(np.float32) / np.sqrt(self.dim) * 8
                else:
                    rows[n] += self.weight[i] * self.vectors[i]
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        return rows / np.where(norms > 0, norms, 1)


class WordEmbedder:
    """The text model of the word library: :meth:`Words.embed` for queries and passages alike."""

    def __init__(self, words: Words):
        from heimdex.models.base import ModelInfo

        self.words = words
        self.info = ModelInfo("text", "bench-words", "1", words.dim, "none", "eval/bench_search.py")

    def embed_queries(self, texts) -> np.ndarray:
        return self.words.embed(list(texts))

    def embed_passages(self, texts) -> np.ndarray:
        return self.words.embed(list(texts))


class WordRegistry:
    """What search asks of a registry, for the word library: its text model, and nothing else."""

    def __init__(self, embedder: WordEmbedder):
        self.embedder = embedder

    def get(self, role: str):
        if role != "text":
            raise KeyError(role)
        return self.embedder

    def has(self, role: str) -> bool:
        return role == "text"

    def info(self, role: str):
        return self.get(role).info


class WordLibrary(Library):
    """The realistic library: speech of 8 to 20 words and screen text of 2 to 5, in the synthetic language
    (:class:`Words`: 24,000 words of Zipf frequency in 400 topics), vectors from its embedder with noise; the
    queries are 2 to 4 words of sentences of the same language (``queries``), half to choose settings on."""

    def __init__(self, db, users: int, seed: int = 7, dim: int = 384):
        self.language = Words(dim)
        super().__init__(db, WordEmbedder(self.language), users, seed)
        self.registry = WordRegistry(self.embedder)

    def corpus(self) -> list[str]:
        rng = np.random.default_rng(17)
        return [self.language.sentence(rng, int(rng.integers(2, 6))) for _ in range(50)]

    def queries(self) -> list[str]:
        """200 queries: a few words of a sentence of the language, as a person remembers them."""
        rng = np.random.default_rng(23)
        found = []
        for _ in range(200):
            words = self.language.sentence(rng, 12).split()
            start = int(rng.integers(0, 8))
            found.append(" ".join(words[start : start + int(rng.integers(2, 5))]))
        return found

    def _noisy(self, texts: list[str], noise: float = 0.02) -> np.ndarray:
        rows = self.language.embed([t or "silence" for t in texts]) + self.rng.normal(
            0, noise, (len(texts), self.language.dim)
        )
        return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)

    def _draw(self, count: int):
        speech = self.rng.random(count) < 0.5
        screen = self.rng.random(count) < 0.2
        said = [
            self.language.sentence(self.rng, int(self.rng.integers(8, 21))) if speech[i] else "" for i in range(count)
        ]
        shown = [
            self.language.sentence(self.rng, int(self.rng.integers(2, 6))) if screen[i] else "" for i in range(count)
        ]
        pieces = [" ".join(text.split()[: len(text.split()) // 2]) for text in said]
        tag_sets = [list(self.rng.choice(TAGS, size=4, replace=False)) for _ in range(count)]
        return said, shown, tag_sets, self._noisy(said), self._noisy(pieces), self._noisy(shown)


class ProseLibrary(Library):
    """The realistic library: real English (:mod:`eval.prose`, the documentation that ships with this Python)
    as if read aloud, embedded by the app's own text model. Speech is a window of 8 to 20 words on the text
    in order (a transcript's segments cross sentences), its piece the first half, screen text a window of 2
    to 5; tags are four of the 20 in a detector's order, and the same list has the same vector, as the app
    embeds them. The queries are 2 to 4 words of sentences the library does not hold, at least one of them not
    a function word; half choose settings."""

    held_out = 4_000  # sentences kept out of the library: the queries' source
    tag_noise = 0.0

    def __init__(self, db, embedder, users: int, seed: int = 7):
        from eval import prose

        found = prose.sentences()
        self.held, self.words = found[: self.held_out], " ".join(found[self.held_out :]).split()
        super().__init__(db, embedder, users, seed)

    def _window(self, rng: np.random.Generator, shortest: int, longest: int) -> str:
        length = int(rng.integers(shortest, longest + 1))
        start = int(rng.integers(len(self.words) - length))
        return " ".join(self.words[start : start + length])

    def corpus(self) -> list[str]:
        rng = np.random.default_rng(17)
        return [self._window(rng, 8, 20) for _ in range(50)]

    def queries(self) -> list[str]:
        """200 queries: 2 to 4 words in a row of a held-out sentence, as a person remembers them."""
        rng = random.Random(23)
        common = set(function_words())
        found: list[str] = []
        for sentence in self.held:
            words = [w.strip(",.;:()'\"!?") for w in sentence.split()]
            length = rng.randint(2, 4)
            start = rng.randint(0, len(words) - length)
            picked = [w for w in words[start : start + length] if w]
            if len(picked) >= 2 and any(w.lower() not in common for w in picked):
                found.append(" ".join(picked))
            if len(found) == 200:
                break
        return found

    def _tag_key(self, tags: list[str]) -> str:
        return ", ".join(tags)

    def _embed(self, texts: list[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.pool.shape[1]), dtype=np.float32)
        said = [i for i, text in enumerate(texts) if text]
        if said:
            rows[said] = self.embedder.embed_passages([texts[i] for i in said])
        return rows

    def _draw(self, count: int):
        speech = self.rng.random(count) < 0.5
        screen = self.rng.random(count) < 0.2
        said = [self._window(self.rng, 8, 20) if spoken else "" for spoken in speech]
        shown = [self._window(self.rng, 2, 5) if written else "" for written in screen]
        pieces = [" ".join(text.split()[: len(text.split()) // 2]) for text in said]
        tag_sets = [list(self.rng.choice(TAGS, size=4, replace=False)) for _ in range(count)]
        return said, shown, tag_sets, self._embed(said), self._embed(pieces), self._embed(shown)


def percentile(values: list[float], pct: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(pct / 100 * len(values) + 0.5)) - 1))]


def measure(db, library: Library, registry, settings, count: int) -> dict:
    from heimdex.search import SearchFilters, search
    from heimdex.search.channels import TEXT_SIGNALS, vector_scores

    texts = library.queries()
    rng = random.Random(11)
    owners = sorted(set(library.owner.values()))  # users with at least one video
    plan = [(rng.choice(owners), rng.choice(texts)) for _ in range(count)]
    embedder = registry.get("text")
    for user, text in plan[:20]:  # warm caches and the model
        search(db, user, text, registry=registry, settings=settings)
    latencies = []
    for user, text in plan:
        started = time.perf_counter()
        search(db, user, text, registry=registry, settings=settings)
        latencies.append((time.perf_counter() - started) * 1000)
    encode, lookup = [], []
    for user, text in plan:
        started = time.perf_counter()
        vector = embedder.embed_queries([text])[0]
        encode.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        with db.transaction() as conn:
            vector_scores(conn, user, library.model, vector, TEXT_SIGNALS, SearchFilters(), settings=settings)
        lookup.append((time.perf_counter() - started) * 1000)
    done, lock = [0], threading.Lock()

    def client(offset: int) -> None:
        for user, text in plan[offset::8]:
            search(db, user, text, registry=registry, settings=settings)
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


def heavy_user(
    db,
    library: Library,
    registry,
    settings,
    sizes: list[int],
    count: int,
    full_at: int | None,
    report=lambda row: None,
    choose_at: int | None = None,
    graph_at: int | None = None,
) -> list[dict]:
    """One user growing to each of ``sizes`` scenes beside the crowd: search times on both paths, agreement, the index.

    At each size the model's HNSW index is built afresh over every row (crowd included; timed, sized on
    disk), then for ``count`` queries: the full hybrid search as users get it, the exact vector scan
    alone, the index lookup alone, and recall@10 of the lookup against the exact scan (per channel, the
    ten best scenes). At ``full_at`` scenes a full-precision index is built too, for comparison; at ``choose_at``
    the index path's candidate settings are compared on the other half of the queries (``_choose``)."""
    from heimdex.db.vectors import index_names
    from heimdex.search import search
    from heimdex.search.channels import TEXT_SIGNALS, SearchFilters, lexical_scores, vector_scores

    user = uuid.uuid4()
    with db.transaction() as conn:
        conn.execute("INSERT INTO users (id, email) VALUES (%s, 'heavy@example.com')", (user,))
    embedder = registry.get("text")
    texts = library.queries()[1::2]  # the held-out half: the index path's settings were chosen on the other
    rng = random.Random(5)
    plan = [rng.choice(texts) for _ in range(count)]
    vectors = embedder.embed_queries(plan)
    base, results = library.scenes, []
    for size in sizes:
        with db.transaction() as conn:  # rows go in without the index, then it is built over all of them
            for name in index_names(library.model_id):
                conn.execute(sql_drop(name))
        built = library.grow(base + size, user=user)
        index_s, index_mb = _rebuild(db, library)
        with db.transaction() as conn:
            conn.execute("ANALYZE scene_vectors")
        row = {"scenes": size, "load_s": round(built, 1), "index_s": round(index_s, 1), "index_mb": round(index_mb, 1)}
        row.update(
            {k: v for k, v in _paths(db, library, user, plan, vectors, registry, settings).items() if k != "exact"}
        )
        for text in library.queries()[0::2]:  # the caches warmed by other searches (the half not reported)
            search(db, user, text, registry=registry, settings=settings)
        latencies = []
        for text in plan:
            started = time.perf_counter()
            search(db, user, text, registry=registry, settings=settings)
            latencies.append((time.perf_counter() - started) * 1000)
        row.update(p50_ms=percentile(latencies, 50), p95_ms=percentile(latencies, 95), p99_ms=percentile(latencies, 99))
        lexical = []
        for text, vector in zip(plan, vectors):
            with db.transaction() as conn:  # as search() does: the candidates the index found, and the rare words
                found = vector_scores(
                    conn, user, library.model, vector, TEXT_SIGNALS, SearchFilters(), True, settings=settings
                )
                started = time.perf_counter()
                lexical_scores(
                    conn, user, text, SearchFilters(), {scene for s in found.values() for scene in s}, settings=settings
                )
                lexical.append((time.perf_counter() - started) * 1000)
        row["lexical_ms"] = statistics.median(lexical)
        row["search_recall_at_10"] = _search_recall(db, user, sorted(set(plan)), registry, settings)
        row["insert_scenes_ms"], row["insert_video_ms"] = _insert_video_ms(db, library, user)
        if full_at == size:
            row["full_precision"] = _full_precision(db, library, user, plan, vectors, registry, settings)
        if choose_at == size:
            row["choices"] = _choose(db, library, user, registry, settings)
        if graph_at == size:
            row["graphs"] = _graph(db, library, user, registry, settings)
        row.update(_footprint(db))
        results.append({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()})
        report(results[-1])
    return results


def _footprint(db) -> dict:
    """What the database holds on disk (MiB): the scenes (with their texts and word indexes), the vectors, and
    the HNSW indexes; and how much of it PostgreSQL's own cache (shared_buffers) holds. The rest of what search
    reads comes from the operating system's page cache, which these sizes bound."""
    with db.transaction() as conn:
        row = conn.execute(
            """SELECT pg_total_relation_size('scenes')::float8 / 2^20 AS scenes_mb,
                      pg_relation_size('scene_vectors')::float8 / 2^20 AS vectors_mb,
                      (SELECT sum(pg_relation_size(indexrelid))::float8 / 2^20 FROM pg_index i
                       JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE 'scene_vectors_hnsw_%%') AS hnsw_mb,
                      current_setting('shared_buffers') AS shared_buffers"""
        ).fetchone()
    return {key: round(value, 1) if isinstance(value, float) else value for key, value in row.items()}


def sql_drop(name: str):
    from psycopg import sql

    return sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(name))


def _paths(db, library: Library, user, plan, vectors, registry, settings, efs=(40, 200, 400), known=None) -> dict:
    """Median time of the exact scan and of the index lookup alone, and recall@10 of the lookup (by distance: the
    share of its ten best as near as the exact scan's tenth), at each ef_search
    (``known``: the exact scan's answers and times, from an earlier call's ``"exact"``)."""
    from heimdex.search.channels import TEXT_SIGNALS, SearchFilters, vector_scores

    def lookup(vector, approximate: bool, ef: int | None = None) -> dict:
        tried = replace(settings, ann_ef_search=ef) if ef else settings
        with db.transaction() as conn:
            return vector_scores(
                conn, user, library.model, vector, TEXT_SIGNALS, SearchFilters(), approximate, settings=tried
            )

    def best(scores: dict) -> list[list[float]]:  # per channel, the ten best similarities
        return [sorted(found.values(), reverse=True)[:10] for found in scores.values() if found]

    exact_ms, exact = known or ([], [])
    for vector in [] if known else vectors:
        started = time.perf_counter()
        exact.append(best(lookup(vector, False)))
        exact_ms.append((time.perf_counter() - started) * 1000)
    found = {"exact_scan_ms": statistics.median(exact_ms), "exact": (exact_ms, exact)}
    default = settings.ann_ef_search
    for ef in sorted({*efs, default}):
        ann_ms, hits, wanted = [], 0, 0
        for vector, truth in zip(vectors, exact):
            started = time.perf_counter()
            got = best(lookup(vector, True, ef))
            ann_ms.append((time.perf_counter() - started) * 1000)
            for want, have in zip(truth, got):  # a neighbour as near as the exact tenth counts (ann-benchmarks'
                # recall, its epsilon 1e-3: near-duplicates are either as right, and the index keeps half floats)
                hits, wanted = hits + sum(sim >= want[-1] - 1e-3 for sim in have), wanted + len(want)
        suffix = "" if ef == default else f"_ef{ef}"
        found[f"ann_ms{suffix}"] = statistics.median(ann_ms)
        found[f"recall_at_10{suffix}"] = round(hits / max(1, wanted), 4)
    return found


CHOICES = [  # ANN candidates per channel, ef_search, the words' share of the library, and its floor (scenes)
    (50, 100, 0.01, 1000),
    (50, 200, 0.01, 1000),
    (50, 200, 0.005, 1000),
    (50, 200, 0.0033, 1000),
    (100, 200, 0.0033, 1000),
    (30, 200, 0.0033, 1000),
    (50, 200, 0.0033, 600),
    (50, 200, 0.0033, 400),
    (100, 200, 0.0033, 400),
    (50, 200, 0.002, 400),
    (50, 200, 0.0013, 400),
]
GRAPHS = [(16, 64), (16, 128), (24, 128), (32, 200)]  # HNSW m, ef_construction
EF_SEARCH = (40, 100, 200, 400)


def _choose(db, library: Library, user, registry, settings) -> list[dict]:
    """The index path's settings (ANN candidates per channel, ef_search, scenes the rare words may pick) tried, in
    ``CHOICES``' order, on the half of the queries the reported figures do not use: search recall@10 against the
    exact path, and latency."""
    from heimdex.search import search

    texts = library.queries()[0::2]
    exact = _first_pages(db, user, texts, registry, settings, exact=True)
    tried = []
    for candidates, ef, share, floor in CHOICES:
        choice = replace(
            settings, ann_candidates=candidates, ann_ef_search=ef, lexical_share=share, lexical_max_scenes=floor
        )
        latencies = []
        for text in texts:
            started = time.perf_counter()
            search(db, user, text, registry=registry, settings=choice)
            latencies.append((time.perf_counter() - started) * 1000)
        tried.append(
            {
                "ann_candidates": candidates,
                "ef_search": ef,
                "lexical_share": share,
                "lexical_max_scenes": floor,
                "search_recall_at_10": round(_search_recall(db, user, texts, registry, choice, exact), 3),
                "p50_ms": round(percentile(latencies, 50), 1),
                "p95_ms": round(percentile(latencies, 95), 1),
            }
        )
    return tried


def _graph(db, library: Library, user, registry, settings) -> list[dict]:
    """HNSW build settings (m, ef_construction) and ef_search tried on the half of the queries the reported
    figures do not use: build time, size, and the index lookup's recall@10 against the exact scan, and its time.
    The index is left as the defaults (heimdex.db.vectors) build it."""
    from heimdex.db import vectors as stored

    embedder = (library.registry or registry).get("text")
    texts = library.queries()[0::2]
    query_vectors = embedder.embed_queries(texts)
    tried, known, default = [], None, (stored.HNSW_M, stored.HNSW_EF_CONSTRUCTION)
    try:
        for m, ef_construction in GRAPHS:
            stored.HNSW_M, stored.HNSW_EF_CONSTRUCTION = m, ef_construction
            build_s, index_mb = _rebuild(db, library)
            for ef in EF_SEARCH:
                tried_settings = replace(settings, ann_ef_search=ef)
                found = _paths(db, library, user, texts, query_vectors, registry, tried_settings, (), known)
                known = found["exact"]
                tried.append(
                    {
                        "m": m,
                        "ef_construction": ef_construction,
                        "ef_search": ef,
                        "build_s": round(build_s, 1),
                        "index_mb": round(index_mb, 1),
                        "recall_at_10": found["recall_at_10"],
                        "ann_ms": round(found["ann_ms"], 2),
                    }
                )
    finally:
        stored.HNSW_M, stored.HNSW_EF_CONSTRUCTION = default
        _rebuild(db, library)
    return tried


def _rebuild(db, library: Library) -> tuple[float, float]:
    """The model's indexes built afresh (as heimdex.db.vectors builds them now): seconds, and their size in MiB."""
    from heimdex.db.vectors import ensure_vector_index, index_names

    names = index_names(library.model_id)
    with db.transaction() as conn:
        for name in names:
            conn.execute(sql_drop(name))
    started = time.perf_counter()
    with db.transaction() as conn:
        conn.execute("SET LOCAL maintenance_work_mem = '4GB'")  # the graph of 1M rows (1.5 GB) built in memory
        ensure_vector_index(conn, library.model_id, library.pool.shape[1])
    spent = time.perf_counter() - started
    with db.transaction() as conn:
        size = conn.execute(
            "SELECT sum(pg_relation_size(i::regclass))::float8 AS b FROM unnest(%s::text[]) AS i", (names,)
        ).fetchone()["b"]
    return spent, size / 2**20


def _first_pages(db, user, texts: list[str], registry, settings, exact: bool) -> dict[str, list[float]]:
    """The scores of each query's first ten moments, through the index path or (``exact``) the exact one."""
    from heimdex.search import search

    path = replace(settings, ann_min_scenes=10**12) if exact else settings
    return {
        text: [m.score for m in search(db, user, text, page_size=10, registry=registry, settings=path).moments]
        for text in texts
    }


def _search_recall(
    db, user, texts: list[str], registry, settings, exact: dict[str, list[float]] | None = None
) -> float:
    """How much of the exact path's first page of ten the index path gives: the share of its ten moments that
    score at least as high as the exact path's tenth (scores, not identities: the synthetic library holds many
    equally good scenes, and either of two ties is as right)."""
    exact = exact or _first_pages(db, user, texts, registry, settings, exact=True)
    found = wanted = 0
    for text, scores in _first_pages(db, user, texts, registry, settings, exact=False).items():
        truth = exact[text]
        if truth:
            found += min(len(truth), sum(score >= truth[-1] - 1e-6 for score in scores))
            wanted += len(truth)
    return found / max(1, wanted)


def _insert_video_ms(db, library: Library, user) -> tuple[float, float]:
    """Time to store one 10-minute video's 100 scenes (their words counted) and its vectors (~170 rows, the index kept
    up to date); rolled back."""
    rows = library._vectors(np.arange(170) % len(library.texts))
    with db.transaction() as conn:
        video = uuid.uuid4()
        conn.execute(
            """INSERT INTO videos (id, user_id, title, filename, sha256, size_bytes, blob_key, container,
                   duration_s, width, height, video_codec, has_audio, state)
               VALUES (%s, %s, 'one', 'one.mp4', %s, 1, 'x', 'mp4', 600, 1, 1, 'h264', false, 'indexed')""",
            (video, user, uuid.uuid4().hex * 2),
        )
        started = time.perf_counter()  # the scenes, their words counted by the scene_terms triggers
        ids = [
            conn.execute(
                """INSERT INTO scenes (video_id, user_id, idx, start_s, end_s, transcript, tag_text)
                   VALUES (%s, %s, %s, 0, 1, %s, 'person, car, table') RETURNING id""",
                (video, user, i, library.texts[i % len(library.texts)]),
            ).fetchone()["id"]
            for i in range(100)
        ]
        scenes_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO scene_vectors (scene_id, user_id, model_id, channel, chunk, embedding) VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (ids[i % 100], user, library.model_id, ("tags", "transcript")[i // 100], 0, rows[i])
                    for i in range(170)
                ],
            )
        spent = (time.perf_counter() - started) * 1000
        conn.rollback()
    return scenes_ms, spent


def _full_precision(db, library: Library, user, plan, vectors, registry, settings) -> dict:
    """The same indexes over full floats instead of halves: build time, size, lookup time and recall@10; then back."""
    from heimdex.db import vectors as stored

    found = {}
    try:
        stored.STORED_AS = "vector"
        build_s, index_mb = _rebuild(db, library)
        found.update(index_s=round(build_s, 1), index_mb=round(index_mb, 1))
        found.update(
            {
                k: v
                for k, v in _paths(db, library, user, plan, vectors, registry, settings).items()
                if "ef" not in k and k != "exact"
            }
        )
    finally:
        stored.STORED_AS = "halfvec"
        _rebuild(db, library)
    return found


def crossover(
    db, library: Library, registry, settings, sizes=(1_000, 10_000, 50_000, 100_000)
) -> list[tuple[int, float]]:
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
                vector_scores(conn, user, library.model, vector, TEXT_SIGNALS, SearchFilters(), settings=settings)
            times.append((time.perf_counter() - started) * 1000)
        results.append((size, statistics.median(times)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scales", default="100000", help="crowd sizes in scenes (0: no crowd)")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--heavy-user", default="10000,100000,300000", help="the heavy user's sizes ('' for none)")
    parser.add_argument("--heavy-queries", type=int, default=100)
    parser.add_argument("--full-at", type=int, default=None, help="also try a full-precision index at this size")
    parser.add_argument("--choose-at", type=int, default=None, help="compare the index path's settings at this size")
    parser.add_argument("--graph-at", type=int, default=None, help="compare HNSW build settings at this size")
    parser.add_argument(
        "--library",
        choices=("prose", "words", "sentences"),
        default="prose",
        help="prose: real English embedded by the app's text model (realistic); words: a synthetic language of 24k "
        "Zipf words (a stress case for the graph); sentences: a few hundred real sentences repeated (a stress case "
        "for common words)",
    )
    parser.add_argument("--no-crossover", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = parser.parse_args()

    from heimdex.config import Settings
    from heimdex.db import open_database
    from heimdex.db.embedded import release
    from heimdex.models.registry import get_registry

    data = Path(tempfile.mkdtemp(prefix="heimdex-bench-search-"))  # a database of its own, never the app's
    settings = replace(Settings.from_env(), data_dir=data, database_url=None, db_pool_size=10)
    registry = get_registry()
    db = open_database(settings)
    try:  # the throwaway server stops, and its folder (gigabytes at 300,000 scenes) goes, whatever happens
        library = {
            "prose": lambda: ProseLibrary(db, registry.get("text"), args.users),
            "words": lambda: WordLibrary(db, args.users),
            "sentences": lambda: Library(db, registry.get("text"), args.users),
        }[args.library]()
        registry = library.registry or registry
        gc.freeze()  # the library's own millions of words are no garbage: collecting them paused searches 70 ms
        report: dict = {
            "cpus": os.cpu_count(),
            "users": args.users,
            "library": args.library,
            "text_model": registry.info("text").name,
            "crowd": [],
        }
        say = (lambda line: None) if args.json else (lambda line: print(line, flush=True))
        say(f"cpus: {os.cpu_count()}, users: {args.users}, text model: {registry.info('text').name}")
        say(
            "\n| scenes | build s | p50 ms | p95 ms | p99 ms | QPS (8 clients) | encode p50 ms | lookup p50 ms | p95 / 2x(encode+lookup) |"
        )
        say("|---|---|---|---|---|---|---|---|---|")
        for scale in (int(s) for s in args.scales.split(",") if s.strip()):
            if scale == 0:
                continue
            built = library.grow(scale)
            m = measure(db, library, registry, settings, args.queries)
            report["crowd"].append(
                {"scenes": scale, "build_s": round(built, 1), **{k: round(v, 2) for k, v in m.items()}}
            )
            budget = 2 * (m["encode_p50"] + m["lookup_p50"])
            say(
                f"| {scale:,} | {built:.0f} | {m['p50']:.1f} | {m['p95']:.1f} | {m['p99']:.1f} | {m['qps8']:.0f} | "
                f"{m['encode_p50']:.1f} | {m['lookup_p50']:.1f} | {m['p95'] / budget:.2f} |"
            )
        sizes = [int(s) for s in args.heavy_user.split(",") if s.strip()]
        if sizes:
            say(
                f"\none heavy user beside the crowd ({library.scenes:,} crowd scenes), {args.heavy_queries} queries:\n\n"
                "| scenes | search p50 / p95 / p99 ms | search recall@10 | exact scan ms | index lookup ms | recall@10 | "
                "recall@10 ef 40 / 200 / 400 (ms) | lexical ms | index build s | index MB | one video's scenes / vectors ms |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|"
            )

            def row(r: dict) -> None:
                say(
                    f"| {r['scenes']:,} | {r['p50_ms']:.1f} / {r['p95_ms']:.1f} / {r['p99_ms']:.1f} | "
                    f"{r['search_recall_at_10']:.3f} | {r['exact_scan_ms']:.1f} | "
                    f"{r['ann_ms']:.1f} | {r['recall_at_10']:.3f} | "
                    + " / ".join(  # the default ef_search's figures carry no suffix
                        f"{r.get(f'recall_at_10_ef{ef}', r['recall_at_10']):.3f} ({r.get(f'ann_ms_ef{ef}', r['ann_ms']):.1f})"
                        for ef in (40, 200, 400)
                    )
                    + f" | {r['lexical_ms']:.1f} | "
                    f"{r['index_s']:.0f} | {r['index_mb']:.0f} | {r['insert_scenes_ms']:.0f} / {r['insert_video_ms']:.0f} |"
                )
                if "full_precision" in r:
                    say(f"  full-precision index at {r['scenes']:,}: {json.dumps(r['full_precision'])}")
                for choice in r.get("choices", []) + r.get("graphs", []):
                    say(f"  at {r['scenes']:,}, on the other half of the queries: {json.dumps(choice)}")
                say(
                    f"  on disk at {r['scenes']:,}: scenes {r['scenes_mb']} MiB, vectors {r['vectors_mb']} MiB, "
                    f"HNSW {r['hnsw_mb']} MiB; shared_buffers {r['shared_buffers']}"
                )

            heavy = heavy_user(
                db,
                library,
                registry,
                settings,
                sizes,
                args.heavy_queries,
                args.full_at,
                row,
                args.choose_at,
                args.graph_at,
            )
            report["heavy_users"] = heavy
            report["heavy_user"] = heavy[-1]
        if not args.no_crossover and not args.json:
            say("\none user's exact vector scan as their library grows:\n\n| that user's scenes | scan ms |\n|---|---|")
            for size, ms in crossover(db, library, registry, settings):
                say(f"| {size:,} | {ms:.1f} |")
        if args.json:
            print(json.dumps(report))
    finally:
        db.close()
        release()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
