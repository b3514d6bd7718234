"""The Trash: a deleted video is hidden everywhere at once with everything derived from it gone, restorable for
30 days (its original kept), then emptied by upkeep; only its owner can reach it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest

from heimdex import states
from heimdex.errors import NotFound
from heimdex.library.trash import KEEP_DAYS, NotInTrash

pytestmark = pytest.mark.integration

DERIVED = ("scenes", "shots", "jobs", "public_clips")


@pytest.fixture
def deferred(monkeypatch):
    """Indexing queued by the core waits in its row (no worker here), as from a CLI without Redis."""
    from heimdex.jobs import queue

    monkeypatch.setattr(queue, "_queue", queue.DeferredQueue())


@pytest.fixture
def signed_in(db, make_user):
    """A fresh user with a live session (signed links need one)."""
    from heimdex.auth.sessions import session_user, start_session

    def make(prefix: str = "trash"):
        return session_user(db, start_session(db, make_user(prefix).id))

    return make


def _add(db, store, settings, media, user, name: str = "classroom.mp4"):
    from heimdex.library.ingest import ingest

    with (media / name).open("rb") as source:
        return ingest(db, store, settings, user.id, source, name).video


def _count(db, table: str, video_id) -> int:
    with db.transaction() as conn:
        return conn.execute(f"SELECT count(*) AS n FROM {table} WHERE video_id = %s", (video_id,)).fetchone()["n"]


def _row(db, video_id) -> dict | None:
    with db.transaction() as conn:
        return conn.execute("SELECT * FROM videos WHERE id = %s", (video_id,)).fetchone()


def _media(link: str):
    """What the signed /media route answers for a link from the core (raising its HTTP refusal)."""
    from heimdex.app.web.signed import media

    parts = urlsplit(link)
    return media(parts.path.rsplit("/", 1)[1], **dict(parse_qsl(parts.query)))


def test_trash_hides_an_indexed_video_everywhere_and_keeps_only_its_original(
    db, store, settings, media, signed_in, deferred
):
    from fastapi import HTTPException

    from heimdex.app import core
    from heimdex.app.links import secret
    from heimdex.jobs.runner import index_now
    from heimdex.library import public
    from heimdex.library.videos import get_video, list_videos
    from heimdex.pipeline.commit import commit_index, read_sidecar
    from heimdex.search import SearchFilters, search
    from heimdex.storage import video_prefix

    user = signed_in()
    video = _add(db, store, settings, media, user)
    indexed = index_now(db, store, video.id).video
    with db.transaction() as conn:
        tags = conn.execute("SELECT tags FROM scenes WHERE video_id = %s ORDER BY idx", (video.id,)).fetchone()
    query = tags["tags"][0]["tag"]
    assert [m.video_id for m in search(db, user.id, query, SearchFilters()).moments] == [video.id]
    token = public.token_of(secret(), public.publish(db, store, settings.tmp_dir, indexed, 0.0, 1.0).id)
    assert public.opened(db, secret(), token) is not None
    link = core.preview(user, str(video.id))
    assert _media(link) is not None
    assert list(store.keys(video_prefix(user.id, video.id)))
    index = read_sidecar(store, user.id, video.id, indexed.index_run or "")

    assert core.delete_video(user, str(video.id)) == str(video.id)

    assert all(_count(db, table, video.id) == 0 for table in DERIVED), [_count(db, t, video.id) for t in DERIVED]
    assert search(db, user.id, query, SearchFilters()).moments == []
    assert list_videos(db, user.id) == []
    for reach in (
        lambda: get_video(db, user.id, video.id),
        lambda: core.video_status(user, str(video.id)),
        lambda: core.preview(user, str(video.id)),
        lambda: core.moment(user, str(video.id)),
        lambda: core.transcript(user, str(video.id)),
        lambda: core.publish_clip(user, str(video.id), 0.0, 1.0),
        lambda: core.rename_video(user, str(video.id), "new"),
        lambda: core.reindex(user, str(video.id)),
        lambda: core.delete_video(user, str(video.id)),
    ):
        with pytest.raises(NotFound):
            reach()
    with pytest.raises(HTTPException) as refused:
        _media(link)
    assert refused.value.status_code == 404
    assert public.listed(db, user.id) == [] and core.public_clips(user) == []
    assert public.opened(db, secret(), token) is None
    assert list(store.keys(video_prefix(user.id, video.id))) == []  # proxy, keyframes, sidecar, public clips
    assert store.exists(video.blob_key)  # the original stays, to be restored
    with pytest.raises(NotFound), db.transaction() as conn:  # a run that was still going cannot commit into it
        commit_index(conn, video.id, index)
    row = _row(db, video.id)
    assert row and row["state"] == "uploaded" and row["index_run"] is None and row["proxy_key"] is None
    [listed] = core.trash(user)
    assert listed["video_id"] == str(video.id) and listed["title"] == video.title
    assert listed["emptied_at"] == (row["trashed_at"] + timedelta(days=KEEP_DAYS)).isoformat()

    assert core.restore_video(user, str(video.id)) == str(video.id)
    assert core.trash(user) == []
    assert [v.id for v in list_videos(db, user.id)] == [video.id]
    back = get_video(db, user.id, video.id)
    assert back.trashed_at is None and back.state == states.VideoState.QUEUED  # indexed anew
    assert _count(db, "jobs", video.id) == 1
    with pytest.raises(NotInTrash):
        core.restore_video(user, str(video.id))
    with pytest.raises(NotInTrash):
        core.delete_forever(user, str(video.id))


def test_the_same_file_uploaded_again_takes_it_out_of_the_trash(db, store, settings, media, make_user, deferred):
    from heimdex.app import core
    from heimdex.library.trash import trash_video
    from heimdex.library.videos import get_video

    user = make_user("again")
    video = _add(db, store, settings, media, user)
    trash_video(db, store, user.id, video.id)
    with (media / "classroom.mp4").open("rb") as source:
        again = core.add_video(user, source, "classroom.mp4")
    assert again.id == video.id and again.trashed_at is None
    assert get_video(db, user.id, video.id).state == states.VideoState.QUEUED and core.trash(user) == []


def test_empty_trash_deletes_for_good_only_what_waited_30_days(db, store, settings, media, make_user):
    from heimdex.library.trash import delete_forever, empty_trash, trash_video, trashed

    user = make_user("empty")
    old, recent, kept = (
        _add(db, store, settings, media, user, name)
        for name in ("classroom.mp4", "people-detection.mp4", "counter.mp4")
    )
    for video in (old, recent):
        trash_video(db, store, user.id, video.id)
    with db.transaction() as conn:
        conn.execute(
            "UPDATE videos SET trashed_at = now() - make_interval(days => %s) - interval '1 minute' WHERE id = %s",
            (KEEP_DAYS, old.id),
        )
    assert [v.id for v in trashed(db, user.id)] == [recent.id, old.id]  # the last put there first

    assert empty_trash(db, store) >= 1
    assert _row(db, old.id) is None and not store.exists(old.blob_key)
    assert _row(db, recent.id) and store.exists(recent.blob_key) and store.exists(kept.blob_key)
    assert [v.id for v in trashed(db, user.id)] == [recent.id]

    with pytest.raises(NotInTrash):
        delete_forever(db, store, user.id, kept.id)
    delete_forever(db, store, user.id, recent.id)
    assert _row(db, recent.id) is None and not store.exists(recent.blob_key) and _row(db, kept.id)


def test_the_core_empties_the_users_own_trash_now(db, store, settings, media, make_user):
    from heimdex.app import core

    alice, bob = make_user("alice"), make_user("bob")
    mine, theirs = _add(db, store, settings, media, alice), _add(db, store, settings, media, bob)
    core.delete_video(alice, str(mine.id))
    core.delete_video(bob, str(theirs.id))
    assert core.empty_trash(alice) == 1
    assert _row(db, mine.id) is None and _row(db, theirs.id) and core.trash(alice) == []
    assert [v["video_id"] for v in core.trash(bob)] == [str(theirs.id)]


def test_another_user_can_neither_trash_restore_see_nor_delete_it(db, store, settings, media, make_user):
    from heimdex.app import core
    from heimdex.library.videos import get_video

    alice, bob = make_user("alice"), make_user("bob")
    video = _add(db, store, settings, media, alice)
    with pytest.raises(NotFound):
        core.delete_video(bob, str(video.id))
    assert get_video(db, alice.id, video.id).trashed_at is None
    core.delete_video(alice, str(video.id))
    for act in (core.restore_video, core.delete_forever):
        with pytest.raises(NotFound):
            act(bob, str(video.id))
    assert core.trash(bob) == [] and core.empty_trash(bob) == 0
    assert [v["video_id"] for v in core.trash(alice)] == [str(video.id)]


def test_a_trashed_video_has_no_jobs_and_recovery_never_queues_it(db, store, settings, media, make_user):
    from heimdex.jobs.queue import DeferredQueue, enqueue
    from heimdex.jobs.recovery import recover
    from heimdex.library.trash import trash_video

    user = make_user("recover")
    waiting, running = (_add(db, store, settings, media, user, n) for n in ("classroom.mp4", "people-detection.mp4"))
    jobs = [enqueue(db, video.id, queue=DeferredQueue()) for video in (waiting, running)]
    with db.transaction() as conn:
        states.claim(conn, jobs[1], "gone:1", settings.job_stale_s)
        conn.execute("UPDATE jobs SET heartbeat_at = now() - interval '1 hour' WHERE id = %s", (jobs[1],))
    for video in (waiting, running):
        trash_video(db, store, user.id, video.id)
    assert not set(jobs) & set(recover(db, DeferredQueue(), settings))
    assert _count(db, "jobs", waiting.id) == _count(db, "jobs", running.id) == 0
    with pytest.raises(states.WrongState):
        enqueue(db, waiting.id, queue=DeferredQueue())
    assert _count(db, "jobs", waiting.id) == 0 and _row(db, waiting.id)["state"] == "uploaded"


def test_videos_in_the_trash_count_against_the_quota_until_emptied(db, store, settings, media, make_user):
    from heimdex.library.quotas import usage
    from heimdex.library.trash import delete_forever, trash_video

    user = make_user("quota")
    video = _add(db, store, settings, media, user)
    before = usage(db, user.id, user.tier)
    trash_video(db, store, user.id, video.id)
    assert usage(db, user.id, user.tier) == before
    delete_forever(db, store, user.id, video.id)
    assert usage(db, user.id, user.tier).videos == before.videos - 1


def test_account_summary_says_what_deleting_the_account_removes(db, store, settings, media, make_user):
    from heimdex.app import core
    from heimdex.library.trash import trash_video

    user = make_user("summary")
    assert core.account_summary(user) == {
        "videos": 0,
        "minutes": 0.0,
        "scenes": 0,
        "trashed": 0,
        "people": 0,
        "links": 0,
    }
    kept, gone = (_add(db, store, settings, media, user, n) for n in ("counter.mp4", "classroom.mp4"))
    trash_video(db, store, user.id, gone.id)
    with db.transaction() as conn:
        for idx in range(2):
            conn.execute(
                "INSERT INTO scenes (video_id, user_id, idx, start_s, end_s) VALUES (%s, %s, %s, %s, %s)",
                (kept.id, user.id, idx, idx, idx + 1),
            )
        conn.execute("INSERT INTO people (user_id, name) VALUES (%s, 'Minji'), (%s, NULL)", (user.id, user.id))
        conn.execute(
            "INSERT INTO public_clips (id, user_id, video_id, start_s, end_s, blob_key) "
            "VALUES (gen_random_uuid(), %s, %s, 0, 1, 'u/x/clip.mp4')",
            (user.id, kept.id),
        )
    assert core.account_summary(user) == {
        "videos": 1,
        "minutes": round(kept.duration_s / 60, 1),
        "scenes": 2,
        "trashed": 1,
        "people": 1,
        "links": 1,
    }
