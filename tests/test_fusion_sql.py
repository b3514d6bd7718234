"""Fusion runs in SQL beside the channels (``fusion_sql``); tuning fuses stored raw scores in Python (``fuse``).
The two give the same scenes, scores and reasons, for every method, on the real database; and the page of moments
(``page_sql``) groups and ranks them as ``group_runs`` does."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace

import pytest
from psycopg import sql

from heimdex.db.statement import Statement
from heimdex.search.fusion import SIGNALS, Fused, FusionConfig, fuse, fusion_sql, reasons_sql
from heimdex.search.results import group_runs, page_sql, runs_of

pytestmark = pytest.mark.integration


def _raw(seed: int) -> dict[str, dict[int, float]]:
    """Raw scores of 300 scenes, each with a few signals, over the ranges the channels give (and past them)."""
    rng = random.Random(seed)
    raw: dict[str, dict[int, float]] = {signal: {} for signal in SIGNALS}
    for scene in range(1, 301):
        for signal in rng.sample(SIGNALS, rng.randint(1, 4)):
            raw[signal][scene] = rng.uniform(-0.2, 1.1) if signal.endswith(("_vec", "person")) else rng.random()
    return raw


def _in_sql(db, raw: dict[str, dict[int, float]], config: FusionConfig, floor: float) -> list[tuple]:
    rows = [(scene, signal, value) for signal, scores in raw.items() for scene, value in scores.items()]
    st = Statement(user=uuid.uuid4())
    relation = st.part(
        "raw",
        sql.SQL("SELECT * FROM unnest({}::bigint[], {}::text[], {}::float8[]) AS r (scene_id, signal, raw)").format(
            st.value([r[0] for r in rows]), st.value([r[1] for r in rows]), st.value([r[2] for r in rows])
        ),
    )
    fused = st.part("hits", fusion_sql(st, relation, config, floor))
    with db.transaction() as conn:
        found = st.rows(
            conn,
            sql.SQL("SELECT h.scene_id, h.score, why.* FROM {} h CROSS JOIN LATERAL ({}) AS why").format(
                fused, reasons_sql(sql.SQL("h.scene_id"))
            ),
        )
    return sorted(found, key=lambda row: (-row[1], row[0]))


@pytest.mark.parametrize("method", ["channels", "weighted", "rrf"])
def test_sql_fusion_is_pythons(db, method):
    config = FusionConfig.load()
    config = replace(config, method=method, weights={**config.weights, "appearance": 0.0})  # a signal left out
    for seed in range(3):
        raw = _raw(seed)
        scores = sorted(hit.score for hit in fuse(raw, config, floor=0.0))
        floor = scores[len(scores) // 2]  # half pass
        python = fuse(raw, config, floor)
        database = _in_sql(db, raw, config, floor)
        assert 100 < len(python) < 200
        assert [row[0] for row in database] == [hit.scene_id for hit in python]
        for row, hit in zip(database, python):
            assert row[1] == pytest.approx(hit.score, abs=1e-9)
            assert row[2] == pytest.approx(hit.signals, abs=1e-9)
            assert row[3] == pytest.approx(hit.probabilities, abs=1e-9)
            assert "appearance" not in row[2]


def test_pages_of_runs_are_pythons(db, make_user):
    """Scenes of three videos scored at random, ties among them (scores in tenths): every page of runs in SQL holds
    the runs ``group_runs`` ranks there, scene by scene, and the total counts them all."""
    user, rng = make_user("runs"), random.Random(7)
    spans: dict[int, dict] = {}
    with db.transaction() as conn:
        for _ in range(3):
            video = uuid.uuid4()
            conn.execute(
                """INSERT INTO videos (id, user_id, title, filename, sha256, size_bytes, blob_key, container,
                       duration_s, width, height, video_codec, has_audio, state)
                   VALUES (%s, %s, 'runs', 'runs.mp4', %s, 1, 'x', 'mp4', 600, 1, 1, 'h264', false, 'indexed')""",
                (video, user.id, uuid.uuid4().hex * 2),
            )
            for idx in range(40):
                row = conn.execute(
                    "INSERT INTO scenes (video_id, user_id, idx, start_s, end_s) VALUES (%s, %s, %s, %s, %s)"
                    " RETURNING id, video_id, idx, start_s",
                    (video, user.id, idx, idx * 3.0, idx * 3.0 + 3),
                ).fetchone()
                spans[row["id"]] = row
    hits = [Fused(scene, round(rng.random(), 1), {"transcript": 1.0}) for scene in spans if rng.random() < 0.5]
    expected = group_runs(hits, spans)
    assert 20 < len(expected) and len({run.score for run in expected}) < len(expected)  # ties to break
    for offset in range(0, len(expected) + 4, 4):
        st = Statement(user=user.id)
        found = st.part(
            "hits",
            sql.SQL("SELECT * FROM unnest({}::bigint[], {}::float8[]) AS h (scene_id, score)").format(
                st.value([h.scene_id for h in hits]), st.value([h.score for h in hits])
            ),
        )
        st.part(
            "kept",
            sql.SQL("SELECT scene_id, 'transcript' AS signal, 1.0::float8 AS ramped, NULL::float8 AS p FROM {}").format(
                found
            ),
        )
        with db.transaction() as conn:
            rows = conn.execute(st.query(page_sql(st, found, offset, 4)), st.params, prepare=False).fetchall()
        runs, _ = runs_of(rows)
        assert rows[0]["total"] == len(expected)
        assert [[s["id"] for s in run.scenes] for run in runs] == [
            [s["id"] for s in run.scenes] for run in expected[offset : offset + 4]
        ]
        assert [run.score for run in runs] == pytest.approx([run.score for run in expected[offset : offset + 4]])
    with db.transaction() as conn:
        conn.execute("DELETE FROM videos WHERE user_id = %s", (user.id,))
