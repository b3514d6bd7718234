"""Issue 13's in-process checks: sign-in limits, passwords, storage failures, odd text, Gradio's folder, the embedded server."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from heimdex.errors import BadInput
from helpers import ROOT, snapshot

pytestmark = pytest.mark.e2e


def test_sign_in_is_limited_per_address_and_registration_too(db, monkeypatch):
    from heimdex.auth import accounts
    from heimdex.config import get_settings
    from heimdex.library.quotas import QuotaExceeded

    address = f"203.0.113.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"
    limit = get_settings().sign_in_limit
    for n in range(limit):  # 30 different e-mails from one address
        with pytest.raises(BadInput) as failed:
            accounts.login(db, f"guess-{n}-{uuid.uuid4().hex[:6]}@example.com", "wrong password!", client=address)
        assert failed.value.code == "sign_in_failed"
    with pytest.raises(QuotaExceeded):
        accounts.login(db, "guess-last@example.com", "wrong password!", client=address)
    for n in range(get_settings().register_limit):
        accounts.register(
            db, f"new-{n}-{uuid.uuid4().hex[:6]}@example.com", "correct horse battery", client=address + "r"
        )
    with pytest.raises(QuotaExceeded):
        accounts.register(db, f"new-{uuid.uuid4().hex[:6]}@example.com", "correct horse battery", client=address + "r")


def test_an_unknown_email_costs_the_same_hashing(db, monkeypatch):
    """No timing oracle: a sign-in with an unknown e-mail verifies a password against a decoy hash."""
    from heimdex.auth import accounts, passwords

    verified, real = [], passwords._hasher

    class Counting:  # the real hasher, noting which hash each verification used
        def hash(self, password):
            return real.hash(password)

        def verify(self, password_hash, password):
            verified.append(password_hash)
            return real.verify(password_hash, password)

    monkeypatch.setattr(passwords, "_hasher", Counting())
    for email in (f"nobody-{uuid.uuid4().hex[:8]}@example.com",):
        with pytest.raises(BadInput):
            accounts.login(db, email, "some password here")
    assert verified == [passwords._decoy()]


@pytest.mark.parametrize(
    "password,reason",
    [
        ("password", "most common"),
        ("12345678", "most common"),
        ("        ", "spaces"),
        ("zzzzzzzzzzzz", "repeated"),
        ("ada@example.com", "email"),
        ("ada", "at least"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, reason):
    from heimdex.auth.passwords import check_strength

    with pytest.raises(BadInput) as refused:
        check_strength(password, "ada@example.com")
    assert reason in refused.value.message
    check_strength("correct horse battery", "ada@example.com")


def test_an_unknown_language_is_refused_at_upload():
    from heimdex.library.ingest import clean_language

    assert clean_language("KO") == "ko" and clean_language("auto") is None
    with pytest.raises(BadInput) as refused:
        clean_language("xx")
    assert refused.value.code == "bad_language"


class RefusingStore:
    """The real local store, except that the chosen operations fail as a full or read-only disk does."""

    def __init__(self, store, fail: set[str], code: int):
        self._store, self._fail, self._code = store, fail, code

    def __getattr__(self, name):
        attribute = getattr(self._store, name)
        if name in self._fail:

            def refuse(*args, **kwargs):
                raise OSError(self._code, os.strerror(self._code), "/srv/heimdex/data/blobs/u/...")

            return refuse
        return attribute


def test_a_full_disk_at_upload_is_a_sentence_and_keeps_nothing(db, store, settings, make_user, media):
    from heimdex.library.ingest import ingest

    user = make_user("full")
    before = snapshot(db, store)
    with pytest.raises(BadInput) as refused, (media / "goldeneye-vfr-drop3.mp4").open("rb") as source:
        ingest(db, RefusingStore(store, {"put"}, errno.ENOSPC), settings, user.id, source, "clip.mp4")
    assert refused.value.code == "storage_unavailable" and "/" not in refused.value.message.replace(
        "full or read-only", ""
    )
    assert snapshot(db, store) == before


def test_a_delete_the_store_refuses_succeeds_and_the_blobs_go_later(db, store, settings, make_user, media):
    from heimdex.library.ingest import ingest
    from heimdex.library.orphans import sweep_orphans
    from heimdex.library.videos import delete_video, get_video

    user = make_user("readonly")
    with (media / "goldeneye-vfr-drop3.mp4").open("rb") as source:
        video = ingest(db, store, settings, user.id, source, "clip.mp4").video
    delete_video(db, RefusingStore(store, {"delete", "delete_prefix"}, errno.EROFS), user.id, video.id)
    with pytest.raises(BadInput):
        get_video(db, user.id, video.id)  # gone for the user at once
    assert store.exists(video.blob_key)  # the disk refused: the source waits
    assert sweep_orphans(db, store) >= 2
    assert not store.exists(video.blob_key)
    with db.transaction() as conn:
        assert (
            conn.execute("SELECT count(*) AS n FROM orphan_blobs WHERE key LIKE %s", (f"u/{user.id}/%",)).fetchone()[
                "n"
            ]
            == 0
        )


def test_odd_text_is_cleaned_and_odd_numbers_are_sentences():
    from heimdex.app.inputs import clean_text, seconds, whole_number

    assert clean_text("red\x00 car\ud800") == "red car?"
    assert clean_text(None) == "" and len(clean_text("x" * 5000)) == 2000
    for bad in ("ten", None, 1.5, "1e400", float("inf")):
        with pytest.raises(BadInput):
            whole_number(bad, "limit")
    for bad in ("nan", "inf", "abc", None, 1e400):
        with pytest.raises(BadInput):
            seconds(bad)


def test_gradio_files_are_the_owners_and_swept(tmp_path):
    from heimdex.app.handoff import Handoff, UploadRefused

    handoff = Handoff(tmp_path / "gradio", ttl_s=60)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    upload = tmp_path / "gradio" / "abc" / "clip.mp4"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"video")
    handoff.record_upload(alice, [str(upload), "/etc/passwd"])  # paths outside the folder are never recorded
    with pytest.raises(UploadRefused):
        handoff.claim(bob, str(upload))
    with pytest.raises(UploadRefused):
        handoff.claim(alice, "/etc/passwd")
    with pytest.raises(UploadRefused):
        handoff.claim(alice, str(tmp_path / "gradio" / "abc" / ".." / "abc" / "other.mp4"))
    assert handoff.claim(alice, str(upload)) == upload
    assert not handoff.may_serve(alice, str(upload), lambda key: True)  # an upload is never sent back
    picture = handoff.picture(alice, "u/a/v/b/kf/1.jpg", b"jpeg")
    exists = {"u/a/v/b/kf/1.jpg": True}
    assert handoff.may_serve(alice, picture, exists.get) and not handoff.may_serve(bob, picture, exists.get)
    assert handoff.may_name(picture, alice) and not handoff.may_name(picture, bob)  # a gallery selection, sent back
    assert handoff.may_name(str(upload), alice) and not handoff.may_name(str(upload), None)
    assert not handoff.may_serve(None, picture, exists.get)
    exists["u/a/v/b/kf/1.jpg"] = False  # its video was deleted
    assert not handoff.may_serve(alice, picture, exists.get)
    handoff.release(upload)
    assert not upload.exists()
    old = tmp_path / "gradio" / "def" / "left.mp4"
    old.parent.mkdir()
    old.write_bytes(b"x")
    os.utime(old, (time.time() - 120, time.time() - 120))
    assert handoff.sweep() == 1 and not old.exists() and os.path.exists(picture)


def _postgres_running(pg_dir) -> list:
    import psutil

    return [
        p
        for p in psutil.process_iter(["name", "cmdline"])
        if p.info["name"] == "postgres" and str(pg_dir) in " ".join(p.info["cmdline"] or [])
    ]


def _stopped(pg_dir, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while _postgres_running(pg_dir) and time.monotonic() < deadline:
        time.sleep(0.5)
    return not _postgres_running(pg_dir)


def test_the_embedded_server_stops_after_a_restart_and_after_a_killed_process(tmp_path):
    """Issue 13, defect 12: neither a restart of the server (as the jobs tests do) nor a process killed with -9
    keeps the embedded PostgreSQL running after its last user exits."""
    from helpers import restart_embedded_postgres

    env = {**os.environ, "HEIMDEX_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    pg_dir = tmp_path / "data" / "pg"
    holder_code = "from heimdex.db import get_database; get_database(); print('up', flush=True); input()"

    holder = subprocess.Popen(
        [sys.executable, "-c", holder_code], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "up"
    restart_embedded_postgres(pg_dir)  # pgserver in the holder still knows the old postmaster
    holder.communicate("\n", timeout=60)  # a clean exit of the last user
    assert _stopped(pg_dir), "the restarted server was left running"

    holder = subprocess.Popen(
        [sys.executable, "-c", holder_code], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "up"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    done = subprocess.run(
        [sys.executable, "-m", "heimdex", "db", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert _stopped(pg_dir), "the server was left running after a killed user"


def test_an_unexpected_error_is_a_sentence_with_an_id_and_logged_with_its_cause(caplog):
    import gradio as gr

    from ui.common import friendly

    @friendly
    def broken():
        raise OSError(30, "Read-only file system", "/srv/heimdex/data/blobs/u/1234/src/abcd")

    with pytest.raises(gr.Error) as shown:
        broken()
    message = shown.value.message
    error_id = message.split("(error ")[1].split(")")[0]
    assert message.startswith("Something went wrong on our side") and "/srv" not in message and "Errno" not in message
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged and logged[0].exc_info and "/srv/heimdex" in str(logged[0].exc_info[1])
