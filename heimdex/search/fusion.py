"""Fusion: per-signal scores made comparable, combined into one calibrated score, cut at a relevance floor.

Signals are what the channels measure (``transcript_vec`` is the cosine of the query
and a scene's transcript vector, ``tags_text`` the full-text rank of its tags, ...).
Each is mapped to 0..1 by a linear ramp between two raw values, so that a score
means the same thing whatever else is in the library, and then fused:

- ``weighted``: the weighted sum of the ramped signals;
- ``rrf``: reciprocal rank fusion, sum of weight / (k + rank) over the signals that found the scene;
- ``channels``: noisy-or of the channels' own probabilities (below), as a logit.

The fused value is then **calibrated**: Platt scaling, ``σ(a · fused + b)``, turns it
into the probability that the moment is what was asked for, as measured on the tune
split of the labelled queries. The floor and the "strong" tier are probabilities.
Each channel's own probability (why a moment matched, shown per channel) is the
Platt map of its best signal's raw score, fitted on the same split: no channel
reads 1.0 for a query it merely resembles.

The numbers live in ``fusion.json`` beside this module; ``python -m eval.tune``
fits them on the tune split and reports the holdout split.

Search fuses in SQL (``fusion_sql``), beside the channels' parts, so that raw scores never
leave the database; ``fuse`` is the same arithmetic in Python, for tuning over stored raw
scores (a test holds the two to the same answers).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from psycopg import sql

from heimdex.db.statement import Statement

CONFIG_PATH = Path(__file__).with_name("fusion.json")
CHANNELS = {
    "transcript": ("transcript_vec", "transcript_text"),
    "ocr": ("ocr_vec", "ocr_text"),
    "visual": ("tags_vec", "tags_text", "appearance", "clip_vec"),
    "person": ("person",),
}
SIGNALS = tuple(signal for signals in CHANNELS.values() for signal in signals)
CHANNEL_OF = {signal: channel for channel, signals in CHANNELS.items() for signal in signals}


@dataclass
class FusionConfig:
    method: str = "weighted"
    weights: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SIGNALS, 1.0))
    calibration: dict[str, tuple[float, float]] = field(default_factory=lambda: dict.fromkeys(SIGNALS, (0.0, 1.0)))
    floor: float = 0.3  # calibrated probability under which nothing is shown
    rrf_k: float = 60.0
    calibrated: tuple[float, float] = (1.0, 0.0)  # Platt (a, b) of the fused value
    platt: dict[str, tuple[float, float]] = field(default_factory=dict[str, tuple[float, float]])  # per signal
    strong: float = 0.6  # calibrated probability from which a match is "strong"

    @classmethod
    def load(cls, path: Path = CONFIG_PATH) -> FusionConfig:
        """The settings in ``path`` (re-read only when the file changes)."""
        return _load(path, path.stat().st_mtime_ns)

    def tier(self, score: float) -> str:
        """'strong' or 'possible' (a score under the floor is never shown)."""
        return "strong" if score >= self.strong else "possible"

    def save(self, path: Path = CONFIG_PATH) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")


@lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> FusionConfig:
    data = json.loads(path.read_text())
    data["calibration"] = {k: tuple(v) for k, v in data["calibration"].items()}
    data["platt"] = {k: tuple(v) for k, v in data.get("platt", {}).items()}
    data["calibrated"] = tuple(data.get("calibrated", (1.0, 0.0)))
    return FusionConfig(**data)


@dataclass
class Fused:
    scene_id: int
    score: float  # calibrated: the probability that the scene is what was asked for
    signals: dict[str, float]  # ramped, 0..1
    probabilities: dict[str, float] = field(default_factory=dict[str, float])  # each signal's own probability

    @property
    def channels(self) -> dict[str, float]:
        """Each channel's probability, its strongest signal's (the 'why it matched')."""
        found: dict[str, float] = {}
        for signal, value in (self.probabilities or self.signals).items():
            channel = CHANNEL_OF[signal]
            found[channel] = max(found.get(channel, 0.0), value)
        return {channel: round(value, 3) for channel, value in found.items() if value > 0}


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def calibrate(signal: str, raw: float, config: FusionConfig) -> float:
    lo, hi = config.calibration.get(signal, (0.0, 1.0))
    return min(1.0, max(0.0, (raw - lo) / (hi - lo))) if hi > lo else float(raw >= lo)


def probability(signal: str, raw: float, config: FusionConfig) -> float | None:
    """The probability of relevance one signal's raw score stands for (None: not fitted)."""
    if signal not in config.platt:
        return None
    a, b = config.platt[signal]
    return sigmoid(a * raw + b)


def fuse(raw: dict[str, dict[int, float]], config: FusionConfig, floor: float | None = None) -> list[Fused]:
    """Scenes at or above the floor (``config.floor`` unless given), best first; ``raw``: signal → scene id → raw."""
    ramped: dict[int, dict[str, float]] = {}
    probabilities: dict[int, dict[str, float]] = {}
    for signal, scores in raw.items():
        if config.weights.get(signal, 0.0) <= 0:
            continue
        for scene_id, value in scores.items():
            score = calibrate(signal, value, config)
            if score > 0:
                ramped.setdefault(scene_id, {})[signal] = score
                p = probability(signal, value, config)
                if p is not None:
                    probabilities.setdefault(scene_id, {})[signal] = p
    if config.method == "rrf":
        fused = _reciprocal_rank(ramped, config)
    elif config.method == "channels":
        fused = [
            Fused(scene_id, _either(probabilities.get(scene_id, {})), signals) for scene_id, signals in ramped.items()
        ]
    else:
        fused = [
            Fused(scene_id, sum(config.weights[s] * v for s, v in signals.items()), signals)
            for scene_id, signals in ramped.items()
        ]
    a, b = config.calibrated
    for hit in fused:
        hit.score = sigmoid(a * hit.score + b)
        hit.probabilities = probabilities.get(hit.scene_id, {})
    floor = config.floor if floor is None else floor
    return sorted((f for f in fused if f.score >= floor), key=lambda f: (-f.score, f.scene_id))


def _either(probabilities: dict[str, float]) -> float:
    """The logit of noisy-or over the channels, each its best signal's probability: how likely any channel is right."""
    best: dict[str, float] = {}
    for signal, p in probabilities.items():
        best[CHANNEL_OF[signal]] = max(best.get(CHANNEL_OF[signal], 0.0), p)
    missing = math.prod(1.0 - p for p in best.values())
    either = min(1 - 1e-9, max(1e-9, 1.0 - missing))
    return math.log(either / (1 - either))


def _reciprocal_rank(calibrated: dict[int, dict[str, float]], config: FusionConfig) -> list[Fused]:
    scores = dict.fromkeys(calibrated, 0.0)
    for signal in SIGNALS:
        ranked = sorted((s for s in calibrated if signal in calibrated[s]), key=lambda s: (-calibrated[s][signal], s))
        for rank, scene_id in enumerate(ranked, start=1):
            scores[scene_id] += config.weights.get(signal, 0.0) / (config.rrf_k + rank)
    return [Fused(scene_id, scores[scene_id], signals) for scene_id, signals in calibrated.items()]


EITHER_MIN = 1e-9  # the noisy-or's probability is kept within [EITHER_MIN, 1 - EITHER_MIN] before its logit


def fusion_sql(st: Statement, raw: sql.Composable, config: FusionConfig, floor: float) -> sql.Composed:
    """``fuse`` in SQL over the relation ``raw`` of ``(scene_id, signal, raw)`` rows (parts added to ``st``, among
    them ``kept``, which :func:`reasons_sql` reads): the scenes at or above ``floor`` as ``(scene_id, score,
    person)``, ``person`` whether the person signal is among a scene's."""
    rows = [
        sql.SQL("({}, {}, {}::float8, {}::float8, {}::float8, {}::float8, {}::float8)").format(
            sql.Literal(signal),
            sql.Literal(CHANNEL_OF[signal]),
            sql.Literal(float(weight)),
            *(sql.Literal(float(v)) for v in config.calibration.get(signal, (0.0, 1.0))),
            *(sql.Literal(float(v) if signal in config.platt else None) for v in config.platt.get(signal, (0, 0))),
        )
        for signal, weight in config.weights.items()
        if weight > 0 and signal in CHANNEL_OF
    ]
    if not rows:
        nothing = (
            "SELECT NULL::bigint AS scene_id, 0::float8 AS score, NULL::jsonb AS signals, NULL::jsonb AS probabilities"
        )
        return sql.Composed([sql.SQL(nothing + " WHERE false")])
    scored = st.part(
        "scored",
        sql.SQL(
            """SELECT r.scene_id, r.signal, c.channel, c.weight,
                      CASE WHEN c.hi > c.lo THEN least(1, greatest(0, (r.raw - c.lo) / (c.hi - c.lo)))
                           ELSE (r.raw >= c.lo)::int END::float8 AS ramped,
                      sigmoid(c.pa * r.raw + c.pb) AS p
               FROM {raw} r JOIN (VALUES {rows}) AS c (signal, channel, weight, lo, hi, pa, pb) USING (signal)"""
        ).format(raw=raw, rows=sql.SQL(", ").join(rows)),
    )
    kept = st.part("kept", sql.SQL("SELECT * FROM {} WHERE ramped > 0 AND weight > 0").format(scored))
    if config.method == "channels":  # noisy-or of each channel's best probability, as a logit
        value = sql.SQL(
            """SELECT scene_id, ln(e / (1 - e)) AS value, person FROM (
                   SELECT scene_id, bool_or(person) AS person,
                          least(1 - {m}, greatest({m}, 1 - exp(coalesce(sum(ln(greatest(1 - p, 1e-300))), 0)))) AS e
                   FROM (SELECT scene_id, channel, max(p) AS p, bool_or(signal = 'person') AS person
                         FROM {kept} GROUP BY scene_id, channel) AS best
                   GROUP BY scene_id) AS either"""
        ).format(m=sql.Literal(EITHER_MIN), kept=kept)
    elif config.method == "rrf":
        value = sql.SQL(
            """SELECT scene_id, sum(weight / ({k} + rank)) AS value, bool_or(signal = 'person') AS person FROM (
                   SELECT *, row_number() OVER (PARTITION BY signal ORDER BY ramped DESC, scene_id) AS rank
                   FROM {kept}) AS ranked
               GROUP BY scene_id"""
        ).format(k=sql.Literal(float(config.rrf_k)), kept=kept)
    else:
        value = sql.SQL(
            "SELECT scene_id, sum(weight * ramped) AS value, bool_or(signal = 'person') AS person FROM {} GROUP BY 1"
        ).format(kept)
    a, b = config.calibrated
    fused = st.part(
        "fused",
        sql.SQL("SELECT scene_id, sigmoid({a} * value + {b}) AS score, person FROM ({value}) AS fused_values").format(
            a=sql.Literal(float(a)), b=sql.Literal(float(b)), value=value
        ),
    )
    return sql.SQL("SELECT * FROM {} WHERE score >= {}").format(fused, sql.Literal(float(floor)))


def reasons_sql(scene: sql.Composable) -> sql.Composed:
    """What ``Fused`` holds of a scene (``scene``, a column) that :func:`fusion_sql` passed: its signals' ramped
    scores and their probabilities, as two JSON objects (``signals``, ``probabilities``). Only a page's scenes
    need them."""
    return sql.SQL(
        """SELECT jsonb_object_agg(k.signal, k.ramped) AS signals,
                  coalesce(jsonb_object_agg(k.signal, k.p) FILTER (WHERE k.p IS NOT NULL), '{{}}') AS probabilities
           FROM kept k WHERE k.scene_id = {}"""
    ).format(scene)
