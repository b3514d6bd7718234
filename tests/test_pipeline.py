"""Indexing end to end: real media, the real models, the embedded Postgres and the blob store."""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys
import threading
import time
import uuid

import cv2
import numpy as np
import pytest

from eval.library import mux_clip
from heimdex.jobs.runner import index_now
from heimdex.library.videos import get_video, load_video
from heimdex.pipeline import StageFailed
from heimdex.pipeline.index import VideoIndex
from heimdex.pipeline.restore import export_index, restore_index
from heimdex.pipeline.run import STAGES
from heimdex.storage import video_prefix
from helpers import ROOT, snapshot

pytestmark = pytest.mark.integration

JOINS = (30.0, 50.0, 59.9, 62.9, 67.4)


def _user(db):
    from heimdex.auth.users import create_user

    return create_user(db, f"pipeline-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery")


def _ingest(db, store, settings, user, path):
    from heimdex.library.ingest import ingest

    with path.open("rb") as source:
        return ingest(db, store, settings, user.id, source, path.name).video


def _scene_rows(db, video_id):
    with db.transaction() as conn:
        return conn.execute("SELECT * FROM scenes WHERE video_id = %s ORDER BY idx", (video_id,)).fetchall()


@pytest.fixture(scope="module")
def walkthrough(db, media):
    """walkthrough_en.mp4 indexed by the CLI in a child process, its job row watched from here."""
    user = _user(db)
    child = subprocess.Popen(
        [sys.executable, "-m", "heimdex", "index", str(media / "walkthrough_en.mp4"), "--user", user.email, "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    samples = []
    while child.poll() is None:
        with db.transaction() as conn:
            row = conn.execute(
                "SELECT j.stage, j.progress FROM jobs j JOIN videos v ON v.id = j.video_id WHERE v.user_id = %s",
                (user.id,),
            ).fetchone()
        if row and (not samples or samples[-1] != (row["stage"], row["progress"])):
            samples.append((row["stage"], row["progress"]))
        time.sleep(0.1)
    out, err = child.communicate()
    assert child.returncode == 0, err[-2000:]
    return {"summary": json.loads(out), "stderr": err, "samples": samples, "user": user}


def test_cli_index_prints_scenes_and_timings(walkthrough):
    summary = walkthrough["summary"]
    assert summary["state"] == "indexed"
    assert summary["duration_s"] == pytest.approx(72.0, abs=0.1)
    assert set(summary["timings_s"]) == set(STAGES) - {"proxy"} | {"total"}  # an MP4 browsers play needs no copy
    assert all(
        set(scene) == {"start_s", "end_s", "transcript", "ocr_text", "tags", "caption"} for scene in summary["scenes"]
    )
    assert "frames" in walkthrough["stderr"] and "%" in walkthrough["stderr"]


def test_progress_is_readable_while_running_and_only_rises(walkthrough, db):
    samples = walkthrough["samples"]
    fractions = [progress for _, progress in samples]
    assert len({round(f, 2) for f in fractions if 0 < f < 1}) >= 5, samples
    assert fractions == sorted(fractions)
    seen = {name.strip() for stage, _ in samples if stage for name in stage.split(",")}
    assert {"frames", "transcribe", "ocr", "visual"} <= seen
    with db.transaction() as conn:
        job = conn.execute("SELECT * FROM jobs WHERE video_id = %s", (walkthrough["summary"]["video_id"],)).fetchone()
    assert job["state"] == "succeeded" and job["progress"] == 1 and job["finished_at"] is not None


def test_scene_boundaries_fall_on_every_join(walkthrough):
    scenes = walkthrough["summary"]["scenes"]
    bounds = [scene["start_s"] for scene in scenes[1:]]
    for join in JOINS:
        assert min(abs(b - join) for b in bounds) <= 0.5, (join, bounds)
    assert all(1.5 <= s["end_s"] - s["start_s"] <= 20.0 + 1e-6 for s in scenes)


def test_jfk_sentence_lands_with_its_word_times(walkthrough, db, registry, media):
    from heimdex.pipeline.audio import decode_audio
    from heimdex.pipeline.transcribe import transcribe

    _, segments = transcribe(decode_audio(media / "jfk.flac"), registry.get("asr"), "en")
    reference = [(w.text, w.start + 2.0, w.end + 2.0) for s in segments for w in s.words]  # jfk.flac starts at 2.0 s
    scenes = [s for s in _scene_rows(db, uuid.UUID(walkthrough["summary"]["video_id"])) if s["start_s"] < 13.0]
    words = [(w["w"], w["s"], w["e"]) for scene in scenes for w in scene["words"] if w["s"] < 14.0]
    assert all(scene["start_s"] < 13.0 and scene["end_s"] > 2.0 for scene in scenes)
    said = " ".join(scene["transcript"] for scene in scenes).lower()
    assert "ask not what your country can do for you" in said
    norm = lambda items: [text.lower().strip(".,") for text, _, _ in items]  # noqa: E731
    matcher = difflib.SequenceMatcher(a=norm(reference), b=norm(words), autojunk=False)
    pairs = [
        (reference[block.a + i], words[block.b + i])
        for block in matcher.get_matching_blocks()
        for i in range(block.size)
    ]
    assert len(pairs) >= 0.9 * len(reference)
    for (_, start, end), (_, s, e) in pairs:
        assert abs(s - start) <= 0.5 and abs(e - end) <= 0.5


def test_screen_text_and_tags_are_in_their_scenes(walkthrough):
    scenes = walkthrough["summary"]["scenes"]
    at = lambda t: next(s for s in scenes if s["start_s"] <= t < s["end_s"])  # noqa: E731
    assert "initiate search program" in at(55.0)["ocr_text"].lower()
    assert any(tag["tag"] == "bottle" and tag["source"] == "objects" for tag in at(40.0)["tags"])
    assert any("car" in tag["tag"] for tag in at(20.0)["tags"])
    for scene in scenes:
        assert all(0.35 <= tag["confidence"] <= 1 and tag["source"] for tag in scene["tags"])


def test_keyframes_are_small_jpegs_and_the_sidecar_holds_everything(walkthrough, db, store):
    video_id = uuid.UUID(walkthrough["summary"]["video_id"])
    rows = _scene_rows(db, video_id)
    for row in rows:
        assert row["keyframe_key"] == row["keyframes"][0]["key"]
        for keyframe in row["keyframes"]:
            with store.open(keyframe["key"]) as blob:
                image = cv2.imdecode(np.frombuffer(blob.read(), np.uint8), cv2.IMREAD_COLOR)
            assert image.shape[1] <= 480 and image.mean() > 24
            assert row["start_s"] <= keyframe["t"] < row["end_s"]
    index = VideoIndex.from_json(export_index(store, load_video(db, video_id)))
    assert [s.transcript for s in index.scenes] == [r["transcript"] for r in rows]
    assert [s.ocr_text for s in index.scenes] == [r["ocr_text"] for r in rows]
    assert index.models["asr"]["name"] and index.models["text"]["version"]
    assert any(seg.words for seg in index.segments)
    with db.transaction() as conn:
        vectors = conn.execute(
            "SELECT count(*) AS n FROM scene_vectors sv JOIN scenes s ON s.id = sv.scene_id WHERE s.video_id = %s",
            (video_id,),
        ).fetchone()["n"]
        shots = conn.execute("SELECT count(*) AS n FROM shots WHERE video_id = %s", (video_id,)).fetchone()["n"]
    assert vectors == sum(len(v.scene_idx) for v in index.vectors) > len(rows)
    assert shots == len(index.shots) >= len(JOINS) + 1


def test_restore_from_sidecar_rebuilds_the_rows_without_models(walkthrough, db, store):
    video_id = uuid.UUID(walkthrough["summary"]["video_id"])
    before = [(r["idx"], r["transcript"], r["ocr_text"], r["tags"]) for r in _scene_rows(db, video_id)]
    with db.transaction() as conn:
        conn.execute("DELETE FROM scenes WHERE video_id = %s", (video_id,))
    report = restore_index(db, store, load_video(db, video_id))
    assert [(r["idx"], r["transcript"], r["ocr_text"], r["tags"]) for r in _scene_rows(db, video_id)] == before
    assert report.video.state == "indexed"


def test_video_without_audio_indexes_its_visuals(db, store, settings, media):
    video = _ingest(db, store, settings, _user(db), media / "subtitles_ko.mp4")
    report = index_now(db, store, video.id)
    assert "transcribe" not in report.timings_s and "audio" not in report.timings_s
    assert report.video.state == "indexed"
    assert all(scene.transcript == "" for scene in report.index.scenes)
    text = " ".join(scene.ocr_text for scene in report.index.scenes).replace(" ", "")
    assert "비상구는오른쪽에" in text and "안녕하세요" in text


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory, media):
    """A 3 s 1080p clip with speech (counter.mp4's picture, jfk.flac's first words)."""
    return mux_clip(
        media / "counter.mp4", media / "jfk.flac", tmp_path_factory.mktemp("clips") / "counter-jfk.mp4", 3.0
    )


@pytest.fixture(scope="module")
def indexed_clip(db, store, settings, short_clip):
    video = _ingest(db, store, settings, _user(db), short_clip)
    assert video.has_audio
    index_now(db, store, video.id)
    return get_video(db, video.user_id, video.id)


def _inject(stage):
    def on_stage(name):
        if name == stage:
            raise RuntimeError("injected failure")

    return on_stage


def test_text_and_sight_are_read_at_once(db, store, settings, short_clip):
    """On-screen text and sight run in two lanes: each lane's first stage waits, at its start, for the other's."""
    video = _ingest(db, store, settings, _user(db), short_clip)
    both = threading.Barrier(2, timeout=120)  # broken (so the run fails) if one lane ran only after the other

    def meet(name):
        if name in ("ocr", "visual"):
            both.wait()

    report = index_now(db, store, video.id, on_stage=meet)
    assert report.video.state == "indexed" and {"ocr", "visual", "faces"} <= set(report.timings_s)


@pytest.mark.parametrize("stage", [s for s in STAGES if s != "proxy"])  # the clip plays in browsers: no proxy stage
def test_failure_at_any_stage_keeps_the_previous_index(stage, indexed_clip, db, store, caplog):
    video = indexed_clip
    scenes_before = [(r["id"], r["transcript"]) for r in _scene_rows(db, video.id)]
    before = snapshot(db, store)
    with pytest.raises(StageFailed) as failed:
        index_now(db, store, video.id, on_stage=_inject(stage))
    assert failed.value.stage == stage
    after = get_video(db, video.user_id, video.id)
    assert after.state == "failed" and after.error_stage == stage and after.error_code == "index_failed"
    assert after.error_message.startswith("Indexing failed while")  # a sentence for people, with an id for the log
    error_id = re.search(r"\(error ([0-9a-f]{8})\)\.$", after.error_message).group(1)
    assert "injected failure" not in after.error_message
    assert any(
        error_id in r.getMessage() and r.exc_info and "injected failure" in str(r.exc_info[1]) for r in caplog.records
    )
    assert after.index_run == video.index_run
    assert [(r["id"], r["transcript"]) for r in _scene_rows(db, video.id)] == scenes_before
    now = snapshot(db, store)
    assert now["blobs"] == before["blobs"]  # the failed run's keyframes and sidecar are gone
    without_jobs = lambda rows: {k: v for k, v in rows.items() if k != "jobs"}  # noqa: E731
    assert without_jobs(now["rows"]) == without_jobs(before["rows"])
    with db.transaction() as conn:
        job = conn.execute("SELECT * FROM jobs WHERE video_id = %s ORDER BY id DESC LIMIT 1", (video.id,)).fetchone()
    assert job["state"] == "failed" and job["error"].startswith(stage)


def test_failed_video_indexes_again_and_replaces_its_run(indexed_clip, db, store):
    first = indexed_clip
    with pytest.raises(StageFailed):
        index_now(db, store, first.id, on_stage=_inject("ocr"))
    report = index_now(db, store, first.id)
    assert report.video.state == "indexed" and report.video.error_stage is None
    assert report.video.index_run != first.index_run
    runs = {key.split("/r/")[1].split("/")[0] for key in store.keys(video_prefix(first.user_id, first.id))}
    assert runs == {report.video.index_run}  # the old run's blobs went with the switch
    words = [w for scene in _scene_rows(db, first.id) for w in scene["words"]]
    assert words and all(0 <= w["s"] < w["e"] <= 3.2 for w in words)


def test_first_run_failing_leaves_nothing_behind(db, store, settings, media):
    video = _ingest(db, store, settings, _user(db), media / "goldeneye-vfr-drop3.mp4")
    before = snapshot(db, store)
    with pytest.raises(StageFailed):
        index_now(db, store, video.id, on_stage=_inject("embed"))
    after = get_video(db, video.user_id, video.id)
    assert after.state == "failed" and after.index_run is None and _scene_rows(db, video.id) == []
    assert snapshot(db, store)["blobs"] == before["blobs"]


def test_a_video_being_indexed_is_not_indexed_twice(indexed_clip, db, store):
    from heimdex import states

    with db.transaction() as conn:  # another worker runs it now
        other = states.queue(conn, indexed_clip.id)
        states.claim(conn, other, "elsewhere:1", 60)
    try:
        with pytest.raises(states.Busy) as refused:
            index_now(db, store, indexed_clip.id)
        assert refused.value.code == "busy"
        assert get_video(db, indexed_clip.user_id, indexed_clip.id).state == "processing"  # the other run's, untouched
    finally:
        with db.transaction() as conn:
            states.cancel(conn, other)
    assert get_video(db, indexed_clip.user_id, indexed_clip.id).state == "indexed"
