"""Fusion runs in SQL beside the channels (``fusion_sql``); tuning fuses stored raw scores in Python (``fuse``).
The two give the same scenes, scores and reasons, for every method, on the real database."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace

import pytest
from psycopg import sql

from heimdex.db.statement import Statement
from heimdex.search.fusion import SIGNALS, FusionConfig, fuse, fusion_sql, reasons_sql

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
