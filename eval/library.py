"""The eval library: every shared video, plus one composed clip, indexed for one user.

The shared media has English speech only inside walkthrough_en.mp4, so one clip is
composed (deterministically) to carry multilingual.mp3, English then French: the
picture of one-by-one-person-detection.mp4 under it. Indexing goes into a data folder
of its own; ``--data DIR`` keeps it between runs so queries can be tuned without
indexing again.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("HEIMDEX_TEST_MEDIA", ROOT.parent / "shared" / "media"))
CACHE = Path(__file__).resolve().parent / ".cache"
EMAIL = "eval@example.com"
COMPOSED = {"multilingual_en_fr.mp4": ("one-by-one-person-detection.mp4", "multilingual.mp3", 60.0)}


def compose(media: Path) -> list[Path]:
    """The composed clips (built once into ``eval/.cache``)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    built = []
    for name, (picture, sound, seconds) in COMPOSED.items():
        target = CACHE / name
        if not target.is_file():
            mux_clip(media / picture, media / sound, target, seconds)
        built.append(target)
    return built


def mux_clip(video: Path, audio: Path, out: Path, seconds: float) -> Path:
    """A new file: the first ``seconds`` of ``video``'s picture (copied) under ``audio`` encoded as AAC."""
    import av

    partial = out.with_suffix(".partial.mp4")
    with av.open(str(video)) as pictures, av.open(str(audio)) as sound, av.open(str(partial), "w") as target:
        picture_in = pictures.streams.video[0]
        picture_out = target.add_stream_from_template(picture_in)
        sound_out = target.add_stream("aac", rate=16000, layout="mono")
        for packet in pictures.demux(picture_in):
            if packet.dts is not None and packet.pts is not None and packet.pts * packet.time_base < seconds:
                packet.stream = picture_out
                target.mux(packet)
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=16000)
        for frame in sound.decode(audio=0):
            if frame.time >= seconds:
                break
            for piece in resampler.resample(frame):
                target.mux(sound_out.encode(piece))
        target.mux(sound_out.encode(None))
    partial.replace(out)
    return out


def videos(media: Path, only: set[str] | None = None) -> list[Path]:
    """Every file the library holds (or only those named)."""
    every = sorted(media.glob("*.mp4")) + compose(media)
    return [path for path in every if only is None or path.name in only]


def open_library(media: Path = MEDIA, data: Path | None = None, echo=print, only: set[str] | None = None):
    """Point Heimdex at ``data`` (a new temporary folder by default), index what is missing; return (db, user id).

    ``only`` restricts the library to some file names (the notebooks' small runs).
    """
    os.environ["HEIMDEX_DATA_DIR"] = str(data or tempfile.mkdtemp(prefix="heimdex-eval-"))
    os.environ.pop("DATABASE_URL", None)
    from heimdex.auth.users import create_user, get_user_by_email
    from heimdex.config import get_settings
    from heimdex.db import get_database
    from heimdex.errors import NotFound
    from heimdex.jobs.runner import index_now
    from heimdex.library.ingest import ingest
    from heimdex.storage import get_blob_store

    get_settings.cache_clear()
    settings, db = get_settings(), get_database()
    store = get_blob_store(settings)
    try:
        user = get_user_by_email(db, EMAIL)
    except NotFound:
        user = create_user(db, EMAIL, "correct horse battery staple")
    started = time.perf_counter()
    for path in videos(media, only):
        with path.open("rb") as source:
            video = ingest(db, store, settings, user.id, source, path.name).video
        if video.state != "indexed":
            index_now(db, store, video.id)
            echo(f"indexed {path.name}")
    echo(f"library ready in {time.perf_counter() - started:.0f} s")
    return db, user.id
