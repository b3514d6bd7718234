"""Big libraries: the embedded server (PostgreSQL 16.14, pgvector 0.8.5) opens the old server's data folder,
and the HNSW path answers as the exact scan does, inside the user's own scenes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid

import numpy as np
import pytest

pytestmark = pytest.mark.integration

TEXTS = [
    "a red car drives through a wet parking lot at night",
    "three plastic water bottles with blue caps on a white table",
    "a man with glasses and a red-haired woman at a desk",
    "students sitting at desks in a classroom",
    "a woman in a grey cardigan stands by a small round table",
    "ask not what your country can do for you",
    "permission is hereby granted free of charge",
    "a worker in a hard hat and a safety vest",
    "an apple on a conveyor belt",
    "a cyclist in a parking lot seen from above",
    "오늘은 날씨가 정말 좋네요",
    "비상구는 오른쪽에 있습니다",
]
QUERIES = ["red car at night", "bottles on a table", "people in a classroom", "비상구", "worker in a vest"]


@pytest.fixture
def approximate_from(monkeypatch):
    """Set the switch-over library size for one test (the settings are read once per process)."""
    from heimdex.config import get_settings

    def at(scenes: int) -> None:
        monkeypatch.setenv("HEIMDEX_ANN_MIN_SCENES", str(scenes))
        monkeypatch.setenv("HEIMDEX_ANN_CANDIDATES", "400")  # every row of these small libraries: exact agreement
        get_settings.cache_clear()

    yield at
    monkeypatch.delenv("HEIMDEX_ANN_MIN_SCENES", raising=False)
    monkeypatch.delenv("HEIMDEX_ANN_CANDIDATES", raising=False)
    get_settings.cache_clear()


def _library(db, registry, make_user, scenes: int, texts: list[str], noise: float, seed: int):
    """A user whose ``scenes`` scenes carry the real model's vectors of ``texts`` (blended with noise)."""
    from heimdex.db.vectors import ensure_vector_index

    user = make_user("library")
    embedder = registry.get("text")
    pool = embedder.embed_passages(texts)
    rng = np.random.default_rng(seed)
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO embedding_models (name, version, dim) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (embedder.info.name, embedder.info.version, embedder.info.dim),
        )
        model = conn.execute(
            "SELECT id, dim FROM embedding_models WHERE name = %s AND version = %s",
            (embedder.info.name, embedder.info.version),
        ).fetchone()
        ensure_vector_index(conn, model["id"], model["dim"])
        video = uuid.uuid4()
        conn.execute(
            """INSERT INTO videos (id, user_id, title, filename, sha256, size_bytes, blob_key, container,
                   duration_s, width, height, video_codec, has_audio, state)
               VALUES (%s, %s, 'library', 'library.mp4', %s, 1, 'x', 'mp4', 600, 1, 1, 'h264', false, 'indexed')""",
            (video, user.id, uuid.uuid4().hex * 2),
        )
        for i in range(scenes):
            text = int(rng.integers(len(texts)))
            scene = conn.execute(
                """INSERT INTO scenes (video_id, user_id, idx, start_s, end_s, tags, tag_text)
                   VALUES (%s, %s, %s, %s, %s, '[]', %s) RETURNING id""",
                (video, user.id, i, i * 4.0, i * 4.0 + 4, texts[text]),
            ).fetchone()["id"]
            for channel in ("tags", "transcript"):
                row = pool[text] + rng.normal(0, noise, pool.shape[1])
                conn.execute(
                    "INSERT INTO scene_vectors (scene_id, user_id, model_id, channel, chunk, embedding) VALUES (%s, %s, %s, %s, 0, %s)",
                    (scene, user.id, model["id"], channel, (row / np.linalg.norm(row)).astype(np.float32)),
                )
        conn.execute("ANALYZE scene_vectors")
    return user


def _moments(db, user, query: str) -> list[tuple]:
    from heimdex.search import search

    return [(str(m.video_id), tuple(m.scene_ids), round(m.score, 6)) for m in search(db, user.id, query).moments]


def test_the_index_path_answers_as_the_exact_scan(db, registry, make_user, approximate_from):
    from heimdex.config import get_settings
    from heimdex.search.channels import large_library

    user = _library(db, registry, make_user, 150, TEXTS, 0.05, seed=1)
    approximate_from(10**9)  # everyone is small: exact
    exact = {query: _moments(db, user, query) for query in QUERIES}
    with db.transaction() as conn:
        assert not large_library(conn, user.id, get_settings())
    approximate_from(100)  # 150 scenes is large now: the index
    with db.transaction() as conn:
        assert large_library(conn, user.id, get_settings())
    assert all(exact[query] for query in QUERIES)
    for query in QUERIES:
        assert _moments(db, user, query) == exact[query], query


def test_the_index_never_returns_another_users_scenes(db, registry, make_user, approximate_from):
    """Another user's 400 scenes are all nearer the query than any of Bob's: the scan goes on past them."""
    from heimdex.config import get_settings
    from heimdex.search.channels import TEXT_SIGNALS, SearchFilters, index_scan, nearest_statement, vector_scores

    approximate_from(50)
    query = "a red car drives through a wet parking lot at night"
    other = _library(db, registry, make_user, 400, [query], 0.01, seed=2)  # the query itself, every one
    bob = _library(db, registry, make_user, 120, TEXTS[1:], 0.05, seed=3)  # no car at all ...
    with db.transaction() as conn:
        with_car = conn.execute("SELECT id FROM scenes WHERE user_id = %s ORDER BY idx LIMIT 1", (bob.id,)).fetchone()[
            "id"
        ]
        car = registry.get("text").embed_passages([TEXTS[0]])[0]  # ... but one scene of a car
        conn.execute("UPDATE scene_vectors SET embedding = %s WHERE scene_id = %s", (car, with_car))
    vector = registry.get("text").embed_queries(["red car at night"])[0]
    info = registry.info("text")
    with db.transaction() as conn:
        found = vector_scores(
            conn,
            bob.id,
            (info.name, info.version),
            vector,
            TEXT_SIGNALS,
            SearchFilters(),
            approximate=True,
            settings=get_settings(),
        )
        mine = {r["id"] for r in conn.execute("SELECT id FROM scenes WHERE user_id = %s", (bob.id,)).fetchall()}
        model = conn.execute(
            "SELECT id, dim FROM embedding_models WHERE name = %s AND version = %s", (info.name, info.version)
        ).fetchone()
        with index_scan(conn, get_settings()):
            plan = conn.execute(
                b"EXPLAIN (FORMAT JSON) " + nearest_statement(model["id"], model["dim"], ["tags"]).as_bytes(conn),
                {"query": vector, "user": bob.id, "limit": 200},
            ).fetchone()
    hits = set(found["tags_vec"]) | set(found["transcript_vec"])
    assert hits and hits <= mine  # only Bob's scenes ...
    assert max(found["tags_vec"].items(), key=lambda kv: kv[1])[0] == with_car  # ... and his car first
    assert "scene_vectors_hnsw_" in json.dumps(plan)  # through the index, not a scan of every row
    top = _moments(db, bob, "red car at night")
    assert top and all(scene in mine for _, scenes, _ in top for scene in scenes)
    assert _moments(db, other, "red car at night")  # the other user's own search still finds their cars


def _term_counts(conn, user_id) -> dict[str, int]:
    rows = conn.execute("SELECT term, scenes FROM scene_terms WHERE user_id = %s", (user_id,)).fetchall()
    return {row["term"]: row["scenes"] for row in rows}


def _recount(conn, user_id) -> dict[str, int]:
    rows = conn.execute(
        """SELECT term, count(*) AS n FROM scenes, unnest(tsvector_to_array(transcript_tsv || ocr_tsv || tags_tsv)) AS term
           WHERE user_id = %s GROUP BY term""",
        (user_id,),
    ).fetchall()
    return {row["term"]: row["n"] for row in rows}


def test_word_counts_follow_the_scenes(db, registry, make_user):
    """scene_terms holds, per user, how many scenes hold each word, and library_sizes how many scenes, through
    inserts, edits and deletes."""
    from heimdex.search.channels import library_size

    alice = _library(db, registry, make_user, 30, TEXTS, 0.05, seed=4)
    bob = _library(db, registry, make_user, 20, TEXTS[:3], 0.05, seed=5)
    with db.transaction() as conn:
        assert (library_size(conn, alice.id), library_size(conn, bob.id)) == (30, 20)
        bobs = _term_counts(conn, bob.id)
        assert _term_counts(conn, alice.id) == _recount(conn, alice.id) and bobs == _recount(conn, bob.id)
        assert bobs["car"] == _recount(conn, bob.id)["car"] > 0 and "classroom" not in bobs
        conn.execute(
            "UPDATE scenes SET tag_text = 'a zeppelin over a classroom' WHERE user_id = %s AND idx < 3", (alice.id,)
        )
        assert _term_counts(conn, alice.id) == _recount(conn, alice.id)
        assert _term_counts(conn, alice.id)["zeppelin"] == 3
        conn.execute("DELETE FROM scenes WHERE user_id = %s AND idx < 2", (alice.id,))
        assert _term_counts(conn, alice.id)["zeppelin"] == 1 and library_size(conn, alice.id) == 28
        assert _term_counts(conn, alice.id) == _recount(conn, alice.id)
        conn.execute("DELETE FROM videos WHERE user_id = %s", (alice.id,))  # the scenes go with their video
        assert _term_counts(conn, alice.id) == {} and library_size(conn, alice.id) == 0
        assert library_size(conn, bob.id) == 20
        assert _term_counts(conn, bob.id) == bobs  # nobody else's counts moved


def test_new_scenes_words_wait_in_no_pending_list(db, registry, make_user):
    """A new video's words go straight into the words' indexes: no GIN pending list (GIN's "fast update") is left
    that every search would read through until a vacuum (20-35 ms a search on a 300k library)."""
    _library(db, registry, make_user, 40, TEXTS, 0.05, seed=6)
    with db.transaction() as conn:
        cleaned = conn.execute(  # the pages a pending list held, merged now: none
            """SELECT c.relname, gin_clean_pending_list(c.oid) AS pages FROM pg_class c JOIN pg_am a ON a.oid = c.relam
               WHERE a.amname = 'gin' AND c.relname LIKE 'scenes\\_%%'"""
        ).fetchall()
    assert sorted(row["relname"] for row in cleaned) == [
        "scenes_ocr_tsv_idx",
        "scenes_tags_tsv_idx",
        "scenes_transcript_tsv_idx",
    ]
    assert [row["pages"] for row in cleaned] == [0, 0, 0]


def test_fusions_logistic_is_inlined(db):
    """sigmoid, called for every scored row of a search, is inlined by the planner (a call as a function costs ten
    times as much), and gives the same values as Python's, NULL for NULL."""
    from heimdex.search.fusion import sigmoid

    with db.transaction() as conn:
        plan = conn.execute("EXPLAIN VERBOSE SELECT sigmoid(x) FROM unnest(ARRAY[0.5::float8]) AS x").fetchall()
        values = [-800.0, -30.0, -1.5, 0.0, 2.0, 800.0]
        got = conn.execute(
            "SELECT array_agg(sigmoid(x) ORDER BY o) AS v FROM unnest(%s::float8[]) WITH ORDINALITY AS u (x, o)",
            (values,),
        ).fetchone()["v"]
        nothing = conn.execute("SELECT sigmoid(NULL) AS v").fetchone()["v"]
    assert not any("sigmoid" in row["QUERY PLAN"] for row in plan)
    assert got == pytest.approx([sigmoid(max(-700, min(700, x))) for x in values], rel=1e-12, abs=1e-300)
    assert nothing is None


def test_common_words_never_pick_scenes_on_the_index_path(db, registry, make_user, approximate_from, monkeypatch):
    """On a large library the rare word finds its scene although no vector points there, and a word in many
    scenes picks none by itself (its scenes are not read)."""
    from heimdex.config import get_settings
    from heimdex.search.channels import SearchFilters, lexical_budget, lexical_scores, library_size, rare_terms

    user = _library(db, registry, make_user, 150, TEXTS, 0.05, seed=6)
    with db.transaction() as conn:
        zeppelin = conn.execute(
            "UPDATE scenes SET tag_text = tag_text || ' and a zeppelin' WHERE user_id = %s AND idx = 77 RETURNING id",
            (user.id,),
        ).fetchone()["id"]
        parking = {
            row["id"]
            for row in conn.execute(
                "SELECT id FROM scenes WHERE user_id = %s AND tags_tsv @@ 'park'::tsquery", (user.id,)
            ).fetchall()
        }
    approximate_from(100)
    monkeypatch.setenv("HEIMDEX_ANN_CANDIDATES", "3")
    monkeypatch.setenv("HEIMDEX_LEXICAL_MAX_SCENES", str(len(parking) - 1))  # "park" is too common to pick scenes
    get_settings.cache_clear()
    with db.transaction() as conn:
        budget = lexical_budget(library_size(conn, user.id), get_settings())
        assert budget == len(parking) - 1
        assert rare_terms(conn, user.id, "a zeppelin in a parking lot", budget) == ["zeppelin"]
        scores = lexical_scores(
            conn, user.id, "a zeppelin in a parking lot", SearchFilters(), within=set(), settings=get_settings()
        )
        assert {scene for ranks in scores.values() for scene in ranks} == {zeppelin}
        everywhere = lexical_scores(
            conn, user.id, "a zeppelin in a parking lot", SearchFilters(), settings=get_settings()
        )
        assert parking | {zeppelin} <= {scene for ranks in everywhere.values() for scene in ranks}  # exact: all
    top = _moments(db, user, "zeppelin")
    assert top and top[0][1] == (zeppelin,)


def test_common_words_together_still_pick_their_scenes(db, registry, make_user, approximate_from, monkeypatch):
    """No recall cliff: when every word of a query is in too many scenes to pick them (a large library of common
    words), the scenes holding all of them are picked, and the index path's best moments are the exact scan's
    although the index gives one candidate per channel."""
    from heimdex.config import get_settings

    texts = ["a red car at night", "a red bus at night", "a blue car in the morning", "a blue bus in the morning"]
    queries = ["red car", "blue bus", "car at night", "bus in the morning"]
    user = _library(db, registry, make_user, 160, texts, 0.05, seed=8)
    with db.transaction() as conn:
        counts = _term_counts(conn, user.id)
    assert min(counts[term] for term in ("red", "car", "blue", "bus", "night", "morn")) > 60
    approximate_from(10**9)
    exact = {query: _moments(db, user, query)[:5] for query in queries}
    approximate_from(100)
    monkeypatch.setenv("HEIMDEX_ANN_CANDIDATES", "1")
    monkeypatch.setenv("HEIMDEX_LEXICAL_MAX_SCENES", "60")  # no word is rare; each pair is in about 40 scenes
    monkeypatch.setenv("HEIMDEX_LEXICAL_SHARE", "0")
    get_settings.cache_clear()
    for query in queries:  # the exact scan's five best moments are there, as good (a weaker neighbour, not a
        # candidate, does not join them, so where they begin and end may differ)
        found = _moments(db, user, query)[:10]
        assert len(exact[query]) == 5
        for video, scenes, score in exact[query]:
            assert any(v == video and s == score and set(ids) & set(scenes) for v, ids, s in found), query


def test_common_words_scenes_are_picked_through_their_indexes(db, registry, make_user):
    """When no word of a query is rare, its scenes are picked through the words' indexes, never by reading the scenes
    table in order until enough of them turn up (on a large library that read every other user's scenes first)."""
    from heimdex.config import get_settings
    from heimdex.db.statement import Statement
    from heimdex.search.channels import index_scan, picked_part, rare_terms

    _library(db, registry, make_user, 120, TEXTS, 0.05, seed=10)  # another user's scenes first
    user = _library(db, registry, make_user, 120, TEXTS, 0.05, seed=11)
    with db.transaction() as conn:
        conn.execute("ANALYZE scenes")
        cars = {
            row["id"]
            for row in conn.execute(
                "SELECT id FROM scenes WHERE user_id = %s AND tags_tsv @@ 'car'::tsquery", (user.id,)
            ).fetchall()
        }
        assert len(cars) > 3 and not rare_terms(conn, user.id, "a car", 3)  # "car" is too common to pick alone
        st = Statement(user=user.id)
        body = picked_part(st, conn, "a car", 3)
        with index_scan(conn, get_settings()):
            plan = json.dumps(
                conn.execute(b"EXPLAIN (FORMAT JSON) " + st.query(body).as_bytes(conn), st.params).fetchone()
            )
            picked = {row[0] for row in st.rows(conn, body)}
    assert '"Seq Scan"' not in plan
    assert len(picked) == 3 and picked <= cars


def test_a_page_is_all_that_leaves_the_database(db, registry, make_user, monkeypatch):
    """Fusion and grouping run in SQL: the rows that reach Python are the page's scenes, and the pages of two
    moments, read one after another, are the same moments in the same order as one page of them all."""
    import heimdex.search as search_module
    from heimdex.search import search

    user = _library(db, registry, make_user, 60, TEXTS, 0.05, seed=9)
    everything = search(db, user.id, "a red car at night", page_size=100)
    assert everything.total == len(everything.moments) >= 5
    read: list[int] = []
    runs_of = search_module.runs_of

    def counted(rows):
        read.append(len(rows))
        return runs_of(rows)

    monkeypatch.setattr(search_module, "runs_of", counted)
    pages = [
        search(db, user.id, "a red car at night", page=n, page_size=2)
        for n in range(1, (everything.total + 1) // 2 + 2)
    ]
    assert all(page.total == everything.total for page in pages)
    assert [m.scene_ids for page in pages for m in page.moments] == [m.scene_ids for m in everything.moments]
    assert all(rows <= sum(len(m.scene_ids) for m in page.moments) or rows == 1 for rows, page in zip(read, pages))
    assert read[-1] == 1 and pages[-1].moments == []  # past the last page: only the count


def test_the_old_servers_data_folder_opens(tmp_path):
    """A data folder written by pgserver 0.1.4 (PostgreSQL 16.2, pgvector 0.6.2) with Heimdex's schema and a
    vector in it opens with the new server: same rows, PostgreSQL 16.14, pgvector updated to 0.8.5."""
    folder = tmp_path / "data"
    folder.mkdir()
    old = textwrap.dedent(
        f"""
        import uuid, pgserver, psycopg
        from pgvector.psycopg import register_vector
        import numpy as np
        from heimdex.db.migrate import migrate
        server = pgserver.get_server({str(folder / "pg")!r}, cleanup_mode="stop")
        with psycopg.connect(server.get_uri(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE heimdex")
        with psycopg.connect(server.get_uri("heimdex")) as conn:
            migrate(conn)
            print(conn.execute("SHOW server_version").fetchone()[0],
                  conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()[0])
            register_vector(conn)
            conn.execute("INSERT INTO users (id, email) VALUES (%s, 'old@example.com')", (uuid.UUID(int=7),))
            conn.execute("INSERT INTO embedding_models (name, version, dim) VALUES ('m', '1', 3)")
            conn.commit()
        server.cleanup()
        """
    )
    made = subprocess.run([sys.executable, "-c", old], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    assert made.stdout.split() == ["16.2", "0.6.2"]
    script = textwrap.dedent(
        f"""
        import os
        os.environ["HEIMDEX_DATA_DIR"] = {str(folder)!r}
        os.environ.pop("DATABASE_URL", None)
        from heimdex.db import close_database, get_database
        from heimdex.db.embedded import release
        db = get_database()
        with db.transaction() as conn:
            print(conn.execute("SHOW server_version").fetchone()["server_version"],
                  conn.execute("SHOW shared_buffers").fetchone()["shared_buffers"],
                  conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()["extversion"],
                  conn.execute("SELECT email FROM users").fetchone()["email"],
                  sorted(r["indexname"] for r in conn.execute(
                      "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'scene_vectors_hnsw_%'").fetchall()))
        close_database()
        release()
        """
    )
    opened = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert opened.returncode == 0, opened.stderr
    version, buffers, vector, email, indexes = opened.stdout.split(" ", 4)
    assert (version, vector, email) == ("16.14", "0.8.5", "old@example.com")
    assert buffers == "1GB"  # Heimdex's own server settings apply to the old folder too
    assert "scene_vectors_hnsw_1_tags" in indexes  # built for the model the old folder knew


def test_a_folder_of_another_major_version_is_refused_with_a_sentence(tmp_path):
    from heimdex.db.embedded import embedded_url
    from heimdex.errors import HeimdexError

    folder = tmp_path / "pg"
    folder.mkdir()
    (folder / "PG_VERSION").write_text("18\n")
    with pytest.raises(HeimdexError, match="made by PostgreSQL 18; Heimdex runs PostgreSQL 16"):
        embedded_url(folder)


def test_a_bad_server_setting_gets_a_sentence(tmp_path):
    from heimdex.db.embedded import _configure
    from heimdex.errors import HeimdexError

    (tmp_path / "postgresql.conf").write_text("# made by initdb\n")
    with pytest.raises(HeimdexError, match="should be a size such as 1GB"):
        _configure(tmp_path, {"shared_buffers": "1GB'; drop"})
    _configure(tmp_path, {"shared_buffers": "512MB"})
    _configure(tmp_path, {"shared_buffers": "2GB"})  # again: included once, the newest value
    assert (tmp_path / "postgresql.conf").read_text().count("include_if_exists = 'heimdex.conf'") == 1
    assert (tmp_path / "heimdex.conf").read_text() == "shared_buffers = '2GB'\n"
