"""HTTP routes beside the Gradio app: the video behind a signed link, and a clip cut on request.

A ``<video>`` element cannot send a session, so these routes trust only the link's
signature (:mod:`heimdex.links`): a tampered or expired link is 403, a video that is not
the signer's is 404. Local files are served with byte ranges (seeking works).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from heimdex.clips import cut
from heimdex.config import get_settings
from heimdex.db import get_database
from heimdex.errors import NotFound
from heimdex.links import Grant, LinkRefused, verify
from heimdex.service import secret
from heimdex.storage import get_blob_store, local_copy
from heimdex.videos import Video, get_video


def _granted(video_id: str, u: str, e: str, s: str) -> tuple[Grant, Video]:
    try:
        grant = verify(secret(), video_id, u, e, s)
    except LinkRefused as refused:
        raise HTTPException(status_code=403, detail=refused.message) from None
    try:
        return grant, get_video(get_database(), grant.user_id, grant.video_id)
    except NotFound:
        raise HTTPException(status_code=404, detail="No such video.") from None


def add_routes(app: FastAPI) -> FastAPI:
    """Register ``/media/{id}`` and ``/clip/{id}`` on ``app``."""

    @app.get("/media/{video_id}")
    def media(video_id: str, u: str = "", e: str = "", s: str = ""):
        _, video = _granted(video_id, u, e, s)
        store = get_blob_store(get_settings())
        path = store.local_path(video.blob_key)
        if path is not None:
            return FileResponse(path, media_type="video/mp4", headers={"Cache-Control": "private, max-age=600"})
        return StreamingResponse(store.open(video.blob_key), media_type="video/mp4")

    @app.get("/clip/{video_id}")
    def clip(video_id: str, u: str = "", e: str = "", s: str = "", start: float = 0.0, end: float = 0.0):
        _, video = _granted(video_id, u, e, s)
        if not 0 <= start < end:
            raise HTTPException(status_code=400, detail="The clip needs a start before its end.")
        settings = get_settings()
        settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        target = Path(tempfile.mkstemp(dir=settings.tmp_dir, prefix="clip-", suffix=".mp4")[1])
        with local_copy(get_blob_store(settings), video.blob_key, settings.tmp_dir) as source:
            cut(source, start, end, target)
        name = f"{Path(video.filename).stem}-{start:.0f}-{end:.0f}s.mp4"
        return FileResponse(target, media_type="video/mp4", filename=name, background=BackgroundTask(target.unlink, missing_ok=True))

    return app
