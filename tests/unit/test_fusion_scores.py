"""Fusion, pure: calibration ramps, the weighted sum and its floor, reciprocal rank fusion, the real fusion.json."""

from __future__ import annotations

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
)

pytestmark = pytest.mark.unit


def test_every_signal_belongs_to_exactly_one_channel():
    assert set(CHANNELS) == {"transcript", "ocr", "visual", "person"}
    assert len(SIGNALS) == len(set(SIGNALS)) == 9
    assert CHANNEL_OF["transcript_vec"] == "transcript" and CHANNEL_OF["clip_vec"] == "visual"
    assert CHANNEL_OF["appearance"] == "visual" and CHANNEL_OF["person"] == "person"
    assert {signal for signals in CHANNELS.values() for signal in signals} == set(CHANNEL_OF)


def test_the_real_config_names_every_signal_with_a_rising_ramp():
    config = FusionConfig.load()
    assert config.method in ("weighted", "rrf")
    assert set(config.weights) == set(SIGNALS) and set(config.calibration) == set(SIGNALS)
    assert all(weight > 0 for weight in config.weights.values())
    for signal, (lo, hi) in config.calibration.items():
        assert isinstance(config.calibration[signal], tuple)  # JSON lists become tuples
        assert 0.0 <= lo < hi <= 1.0, signal
    assert 0.0 < config.floor < 1.0 and config.rrf_k > 0


def test_the_real_config_is_read_once_while_the_file_is_unchanged():
    assert FusionConfig.load() is FusionConfig.load(CONFIG_PATH)


def test_under_the_real_config_a_full_signal_passes_the_floor_and_a_bottom_one_is_dropped():
    config = FusionConfig.load()
    for signal in SIGNALS:
        lo, hi = config.calibration[signal]
        top = fuse({signal: {1: hi, 2: hi + 1.0}}, config)
        passes = config.method == "rrf" or config.weights[signal] >= config.floor
        assert [f.scene_id for f in top] == ([1, 2] if passes else []), signal
        assert all(f.signals == {signal: 1.0} for f in top)
        assert fuse({signal: {3: lo}}, config) == [], signal  # calibrated to 0: not found at all


def test_save_and_load_round_trip(tmp_path):
    path = tmp_path / "fusion.json"
    config = FusionConfig(method="rrf", weights={"person": 2.0}, calibration={"person": (0.1, 0.4)}, floor=0.2)
    config.save(path)
    loaded = FusionConfig.load(path)
    assert loaded == config and loaded.calibration["person"] == (0.1, 0.4)
    assert path.read_text().endswith("}\n")


def test_defaults_are_flat():
    config = FusionConfig()
    assert config.weights == dict.fromkeys(SIGNALS, 1.0)
    assert config.calibration == dict.fromkeys(SIGNALS, (0.0, 1.0))
    assert (config.method, config.floor, config.rrf_k) == ("weighted", 0.3, 60.0)
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


def test_weighted_fusion_sums_weights_times_calibrated_signals_and_cuts_at_the_floor():
    config = FusionConfig(weights={"tags_text": 2.0, "person": 1.0}, floor=0.5)
    fused = fuse({"tags_text": {1: 0.1, 2: 0.4, 3: 0.2}, "person": {1: 0.3, 4: 0.2}}, config)
    # scene 2: 2 × 0.4; scene 1: 2 × 0.1 + 1 × 0.3, on the floor, kept; 3: 2 × 0.2, under it; 4: 0.2, under it
    assert [f.scene_id for f in fused] == [2, 1]
    assert [f.score for f in fused] == pytest.approx([0.8, 0.5])
    assert fused[1].signals == pytest.approx({"tags_text": 0.1, "person": 0.3})


def test_weighted_fusion_ties_are_in_scene_order():
    config = FusionConfig(floor=0.0)
    fused = fuse({"tags_vec": {9: 0.5, 3: 0.5, 5: 0.7}}, config)
    assert [f.scene_id for f in fused] == [5, 3, 9]


def test_signals_without_weight_or_calibrated_to_zero_are_left_out():
    config = FusionConfig(weights={"tags_vec": 1.0, "ocr_vec": 0.0}, floor=0.0)
    fused = fuse({"tags_vec": {1: 0.6, 2: 0.0}, "ocr_vec": {1: 1.0, 3: 1.0}, "bogus": {4: 1.0}}, config)
    assert [(f.scene_id, f.signals) for f in fused] == [(1, {"tags_vec": 0.6})]


def test_nothing_in_nothing_out():
    assert fuse({}, FusionConfig.load()) == []
    assert fuse({"tags_vec": {}}, FusionConfig()) == []


def test_reciprocal_rank_fusion_sums_weight_over_k_plus_rank_and_floors_the_best_signal():
    config = FusionConfig(method="rrf", floor=0.5, rrf_k=60.0)
    fused = fuse({"tags_vec": {1: 0.9, 2: 0.6, 3: 0.4}, "person": {2: 1.0}}, config)
    assert [f.scene_id for f in fused] == [2, 1]  # scene 3's best signal (0.4) is under the floor
    assert fused[0].score == pytest.approx(1 / 62 + 1 / 61)  # second by tags_vec, first by person
    assert fused[1].score == pytest.approx(1 / 61)


def test_reciprocal_rank_fusion_uses_the_weights():
    config = FusionConfig(method="rrf", weights={"tags_vec": 1.0, "person": 3.0}, floor=0.0, rrf_k=10.0)
    fused = fuse({"tags_vec": {1: 0.9, 2: 0.5}, "person": {2: 0.5}}, config)
    assert [(f.scene_id, round(f.score, 6)) for f in fused] == [(2, round(1 / 12 + 3 / 11, 6)), (1, round(1 / 11, 6))]


def test_channels_say_each_channels_strongest_signal_rounded():
    fused = Fused(1, 1.0, {"tags_vec": 0.2, "tags_text": 0.7, "person": 0.0, "ocr_vec": 0.12345})
    assert fused.channels == {"visual": 0.7, "ocr": 0.123}  # a zero channel is no reason
    assert Fused(2, 0.0, {}).channels == {}
