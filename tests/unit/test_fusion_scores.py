"""Fusion, pure: ramps, the weighted sum, its calibration and floor, reciprocal rank fusion, the real fusion.json."""

from __future__ import annotations

import math

import pytest

from heimdex.search.fusion import (
    CHANNEL_OF,
    CHANNELS,
    CONFIG_PATH,
    SIGNALS,
    Fused,
    FusionConfig,
    calibrate,
    fuse,
    probability,
    sigmoid,
)

RAW = {"calibrated": (1.0, 0.0)}  # σ of the fused value: the order and the arithmetic stay visible


pytestmark = pytest.mark.unit


def test_every_signal_belongs_to_exactly_one_channel():
    assert set(CHANNELS) == {"transcript", "ocr", "visual", "person"}
    assert len(SIGNALS) == len(set(SIGNALS)) == 9
    assert CHANNEL_OF["transcript_vec"] == "transcript" and CHANNEL_OF["clip_vec"] == "visual"
    assert CHANNEL_OF["appearance"] == "visual" and CHANNEL_OF["person"] == "person"
    assert {signal for signals in CHANNELS.values() for signal in signals} == set(CHANNEL_OF)


def test_the_real_config_names_every_signal_with_a_rising_ramp():
    config = FusionConfig.load()
    assert config.method in ("weighted", "rrf", "channels")
    assert set(config.weights) == set(SIGNALS) and set(config.calibration) == set(SIGNALS)
    assert all(weight > 0 for weight in config.weights.values())
    for signal, (lo, hi) in config.calibration.items():
        assert isinstance(config.calibration[signal], tuple)  # JSON lists become tuples
        assert 0.0 <= lo < hi <= 1.0, signal
    assert 0.0 < config.floor < config.strong < 1.0 and config.rrf_k > 0
    a, _ = config.calibrated
    assert a > 0  # a higher fused value is a likelier match
    assert set(config.platt) == set(SIGNALS) and all(a > 0 for a, _ in config.platt.values())


def test_under_the_real_config_no_signal_says_certain_for_a_middling_score_and_none_saturates():
    config = FusionConfig.load()
    for signal in SIGNALS:
        lo, hi = config.calibration[signal]
        middling, top = probability(signal, (lo + hi) / 2, config), probability(signal, hi, config)
        assert middling is not None and top is not None
        assert middling < 0.999 and top < 0.9999, signal
        assert probability(signal, hi + 0.1, config) > middling  # rising with the raw score


def test_the_real_config_is_read_once_while_the_file_is_unchanged():
    assert FusionConfig.load() is FusionConfig.load(CONFIG_PATH)


def test_under_the_real_config_a_full_signal_is_scored_by_its_calibration_and_a_bottom_one_is_dropped():
    config = FusionConfig.load()
    a, b = config.calibrated
    for signal in SIGNALS:
        lo, hi = config.calibration[signal]
        top = fuse({signal: {1: hi, 2: hi + 1.0}}, config, floor=0.0)
        assert [f.scene_id for f in top] == [2, 1], signal  # a higher raw score is likelier (channels' method)
        assert all(f.signals == {signal: 1.0} for f in top)
        p = probability(signal, hi, config)
        assert p is not None and top[1].score == pytest.approx(sigmoid(a * math.log(p / (1 - p)) + b))
        assert fuse({signal: {3: lo}}, config, floor=0.0) == [], signal  # ramped to 0: not found at all


def test_save_and_load_round_trip(tmp_path):
    path = tmp_path / "fusion.json"
    config = FusionConfig(
        method="rrf",
        weights={"person": 2.0},
        calibration={"person": (0.1, 0.4)},
        floor=0.2,
        platt={"person": (3.0, -1.0)},
    )
    config.save(path)
    loaded = FusionConfig.load(path)
    assert loaded == config and loaded.calibration["person"] == (0.1, 0.4) and loaded.platt["person"] == (3.0, -1.0)
    assert path.read_text().endswith("}\n")


def test_defaults_are_flat():
    config = FusionConfig()
    assert config.weights == dict.fromkeys(SIGNALS, 1.0)
    assert config.calibration == dict.fromkeys(SIGNALS, (0.0, 1.0))
    assert (config.method, config.floor, config.rrf_k, config.calibrated) == ("weighted", 0.3, 60.0, (1.0, 0.0))
    assert FusionConfig().weights is not config.weights  # no shared mutable default


@pytest.mark.parametrize(
    ("raw", "calibrated"),
    [(0.1, 0.0), (0.2, 0.0), (0.35, 0.5), (0.5, 1.0), (0.9, 1.0), (-3.0, 0.0)],
)
def test_calibration_is_a_clamped_linear_ramp(raw, calibrated):
    config = FusionConfig(calibration={"tags_vec": (0.2, 0.5)})
    assert calibrate("tags_vec", raw, config) == pytest.approx(calibrated)


def test_a_flat_ramp_is_a_step_and_an_unknown_signal_uses_zero_to_one():
    config = FusionConfig(calibration={"person": (0.4, 0.4)})
    assert calibrate("person", 0.39, config) == 0.0 and calibrate("person", 0.4, config) == 1.0
    assert calibrate("not_a_signal", 0.25, config) == 0.25


def test_weighted_fusion_sums_weights_times_ramped_signals_calibrates_and_cuts_at_the_floor():
    config = FusionConfig(weights={"tags_text": 2.0, "person": 1.0}, floor=0.6, calibrated=(4.0, -2.0))
    fused = fuse({"tags_text": {1: 0.1, 2: 0.4, 3: 0.2}, "person": {1: 0.3, 4: 0.2}}, config)
    # fused: scene 2: 2 × 0.4 = 0.8; scene 1: 2 × 0.1 + 1 × 0.3 = 0.5; 3: 0.4; 4: 0.2; then σ(4 × fused - 2):
    # 0.769, 0.5, 0.401, 0.214: only scene 2 reaches 0.6
    assert [f.scene_id for f in fused] == [2]
    assert fused[0].score == pytest.approx(sigmoid(4 * 0.8 - 2))
    every = fuse({"tags_text": {1: 0.1, 2: 0.4, 3: 0.2}, "person": {1: 0.3, 4: 0.2}}, config, floor=0.0)
    assert [f.scene_id for f in every] == [2, 1, 3, 4] and every[1].score == pytest.approx(0.5)
    assert every[1].signals == pytest.approx({"tags_text": 0.1, "person": 0.3})


def test_each_signal_says_its_own_probability_and_a_channel_its_best():
    config = FusionConfig(platt={"tags_text": (10.0, -2.0), "tags_vec": (5.0, -2.0)}, floor=0.0)
    (hit,) = fuse({"tags_text": {1: 0.3}, "tags_vec": {1: 0.6}, "person": {1: 0.5}}, config)
    assert hit.probabilities == pytest.approx({"tags_text": sigmoid(1.0), "tags_vec": sigmoid(1.0)})
    assert hit.channels == {"visual": round(sigmoid(1.0), 3)}  # person has no fitted probability: not shown


def test_the_channels_method_is_noisy_or_of_each_channels_best_probability_then_calibrated():
    config = FusionConfig(
        method="channels",
        platt={"tags_text": (1.0, 0.0), "tags_vec": (1.0, 0.0), "ocr_vec": (2.0, -1.0)},
        floor=0.0,
        **RAW,
    )
    (hit,) = fuse({"tags_text": {1: 0.2}, "tags_vec": {1: 1.0}, "ocr_vec": {1: 0.5}}, config)
    picture, screen = sigmoid(1.0), sigmoid(0.0)  # the picture's best signal (not tags_text's σ(0.2)), the screen's
    assert hit.score == pytest.approx(1 - (1 - picture) * (1 - screen))


def test_tiers():
    config = FusionConfig(floor=0.2, strong=0.6)
    assert [config.tier(p) for p in (0.2, 0.59, 0.6, 0.99)] == ["possible", "possible", "strong", "strong"]


def test_weighted_fusion_ties_are_in_scene_order():
    config = FusionConfig(floor=0.0, **RAW)
    fused = fuse({"tags_vec": {9: 0.5, 3: 0.5, 5: 0.7}}, config)
    assert [f.scene_id for f in fused] == [5, 3, 9]


def test_signals_without_weight_or_calibrated_to_zero_are_left_out():
    config = FusionConfig(weights={"tags_vec": 1.0, "ocr_vec": 0.0}, floor=0.0)
    fused = fuse({"tags_vec": {1: 0.6, 2: 0.0}, "ocr_vec": {1: 1.0, 3: 1.0}, "bogus": {4: 1.0}}, config)
    assert [(f.scene_id, f.signals) for f in fused] == [(1, {"tags_vec": 0.6})]


def test_nothing_in_nothing_out():
    assert fuse({}, FusionConfig.load()) == []
    assert fuse({"tags_vec": {}}, FusionConfig()) == []


def test_reciprocal_rank_fusion_sums_weight_over_k_plus_rank_then_calibrates_and_floors():
    config = FusionConfig(method="rrf", floor=0.5, rrf_k=60.0, calibrated=(100.0, -2.0))
    fused = fuse({"tags_vec": {1: 0.9, 2: 0.6, 3: 0.4}, "person": {2: 1.0}}, config)
    assert [f.scene_id for f in fused] == [2]  # scene 1 (1/61) and 3 (1/63) calibrate under 0.5
    assert fused[0].score == pytest.approx(sigmoid(100 * (1 / 62 + 1 / 61) - 2))  # second by tags_vec, first by person


def test_reciprocal_rank_fusion_uses_the_weights():
    config = FusionConfig(method="rrf", weights={"tags_vec": 1.0, "person": 3.0}, floor=0.0, rrf_k=10.0, **RAW)
    fused = fuse({"tags_vec": {1: 0.9, 2: 0.5}, "person": {2: 0.5}}, config)
    assert [(f.scene_id, round(f.score, 6)) for f in fused] == [
        (2, round(sigmoid(1 / 12 + 3 / 11), 6)),
        (1, round(sigmoid(1 / 11), 6)),
    ]


def test_channels_say_each_channels_strongest_signal_rounded():
    fused = Fused(1, 1.0, {"tags_vec": 0.2, "tags_text": 0.7, "person": 0.0, "ocr_vec": 0.12345})
    assert fused.channels == {"visual": 0.7, "ocr": 0.123}  # a zero channel is no reason
    assert Fused(2, 0.0, {}).channels == {}
