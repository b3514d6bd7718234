"""The cost report on a short real video (the 10-minute run stays a benchmark: python -m eval.cost)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from helpers import ROOT

pytestmark = pytest.mark.e2e


def test_the_cost_report_prices_measured_work(media):
    clip = media / "goldeneye-vfr-drop3.mp4"
    done = subprocess.run(
        [sys.executable, "-m", "eval.cost", "--video", str(clip), "--searches", "5", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    measured, cpu, gpu = report["measured"], report["cpu"], report["gpu"]
    assert measured["video_s"] == pytest.approx(10.0, abs=0.5)
    assert measured["indexing"]["cpu_s"] > 1 and measured["searching"]["searches"] == 5
    assert measured["blob_bytes"]["video"] == clip.stat().st_size  # the upload, stored as it came
    assert measured["blob_bytes"]["keyframes"] > 0 and measured["blob_bytes"]["sidecar"] > 0
    assert measured["db_tables"]["scenes"]["rows"] == 2 and measured["db_tables"]["scene_vectors"]["bytes"] > 0
    minutes = measured["video_s"] / 60
    cpu_s = measured["indexing"]["cpu_s"] + measured["indexing"]["db_cpu_s"]
    assert cpu["usd_per_indexed_minute"] == pytest.approx(cpu_s / 3600 * cpu["usd_per_vcpu_hour"] / minutes)
    assert cpu["usd_per_1000_searches"] > 0 and cpu["storage_usd_per_indexed_minute_month"] > 0
    assert gpu["estimate"] is True and {"Nvidia T4 small", "Nvidia L4 x1"} <= set(gpu["cards"])
    assert all(card["usd_per_indexed_minute"] > 0 for card in gpu["cards"].values())
