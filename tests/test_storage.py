import io
import uuid

import pytest

from heimdex.storage import LocalBlobStore, source_key, user_prefix, video_prefix

pytestmark = pytest.mark.unit


@pytest.fixture
def local(tmp_path):
    return LocalBlobStore(tmp_path / "blobs")


def test_put_open_exists_delete(local):
    key = source_key(uuid.uuid4(), "ab" * 32)
    assert not local.exists(key)
    assert local.put(key, io.BytesIO(b"x" * 5000)) == 5000
    assert local.exists(key)
    with local.open(key) as blob:
        assert blob.read() == b"x" * 5000
    local.delete(key)
    assert not local.exists(key)
    assert list(local.keys()) == []
    assert [p for p in local.root.rglob("*") if p.is_dir() and p.name != ".staging"] == []


def test_keys_are_ours_never_user_text(local):
    for hostile in ["../etc/passwd", "u/../../x", "/abs/path", "u/x/../../y", "U/Caps", "u/a b", ""]:
        with pytest.raises(ValueError):
            local.put(hostile, io.BytesIO(b"no"))
    assert list(local.keys()) == []
    assert not (local.root.parent / "etc").exists()


def test_a_failed_write_leaves_nothing(local):
    class Broken(io.RawIOBase):
        def readinto(self, buffer):
            raise OSError("disk gone")

    key = source_key(uuid.uuid4(), "cd" * 32)
    with pytest.raises(OSError):
        local.put(key, Broken())
    assert not local.exists(key)
    assert list((local.root / ".staging").iterdir()) == []


def test_delete_prefix_removes_only_that_prefix(local):
    alice, bob = uuid.uuid4(), uuid.uuid4()
    video = uuid.uuid4()
    keys = [source_key(alice, "01" * 32), video_prefix(alice, video) + "keyframes/0.jpg", source_key(bob, "01" * 32)]
    for key in keys:
        local.put(key, io.BytesIO(b"data"))
    assert local.delete_prefix(video_prefix(alice, video)) == 1
    assert local.delete_prefix(user_prefix(alice)) == 1
    assert list(local.keys()) == [keys[2]]
