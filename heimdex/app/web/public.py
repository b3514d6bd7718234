"""``/p/<token>``: a clip its owner made public (:mod:`heimdex.library.public`), a page anyone with the link may
open, and its ``clip.mp4``; a guessed, altered or turned-off link is the same 404. Its words are
:mod:`heimdex.app.text`'s, in the language the browser asks for."""

from __future__ import annotations

import html

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse
from starlette.responses import PlainTextResponse

from heimdex.app.links import secret
from heimdex.app.text import say
from heimdex.config import get_settings
from heimdex.db import get_database
from heimdex.library.public import PublicClip, opened
from heimdex.storage import get_blob_store

PUBLIC_HEADERS = {
    "Cache-Control": "no-store",  # a link turned off shows nothing, even from a cache
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",  # the link never leaks to another site
    "X-Content-Type-Options": "nosniff",
}
PAGE_POLICY = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>{title}</title><style>
body{{margin:0;font:16px/1.5 system-ui,sans-serif;background:#111318;color:#e8e8ee}}
main{{max-width:960px;margin:0 auto;padding:16px}}video{{width:100%;max-height:75vh;background:#000;border-radius:8px}}
h1{{font-size:1.3rem;margin:.6em 0 .2em}}p{{margin:.2em 0;color:#a8a8b8}}
</style></head><body><main>{body}</main></body></html>"""


def _language(headers: dict[str, str] | None) -> str:
    accepted = (headers or {}).get("accept-language", "")
    return "ko" if accepted.lower().lstrip().startswith("ko") else "en"


def _clock(s: float) -> str:
    return f"{int(s // 60)}:{int(s % 60):02d}"


def public_page(clip: PublicClip | None, token: str, lang: str) -> HTMLResponse:
    """The page of a public clip (its video, title and times), or the one sentence every unknown link gets."""
    headers = {**PUBLIC_HEADERS, "Content-Security-Policy": PAGE_POLICY}
    if clip is None:
        page = PAGE.format(lang=lang, title="Heimdex", body=f"<h1>{say(lang, 'public_gone')}</h1>")
        return HTMLResponse(page, status_code=404, headers=headers)
    title = html.escape(clip.title)
    body = (
        f"<video src='/p/{token}/clip.mp4' controls playsinline preload='metadata'></video>"
        f"<h1>{title}</h1><p>{_clock(clip.start_s)}–{_clock(clip.end_s)}</p><p>{say(lang, 'public_shared')}</p>"
    )
    return HTMLResponse(PAGE.format(lang=lang, title=f"{title} · Heimdex", body=body), headers=headers)


router = APIRouter()  # a public clip's page and video


@router.get("/p/{token}")
def public_clip_page(token: str, request: Request):
    """The clip's page, in the language the browser asks for."""
    return public_page(opened(get_database(), secret(), token), token, _language(dict(request.headers)))


@router.get("/p/{token}/clip.mp4")
def public_clip(token: str):
    """The clip's video: its own blob and nothing else of the owner's."""
    clip = opened(get_database(), secret(), token)
    store = get_blob_store(get_settings())
    if clip is None or not store.exists(clip.blob_key):
        return PlainTextResponse(say("en", "public_gone"), status_code=404, headers=PUBLIC_HEADERS)
    path = store.local_path(clip.blob_key)
    if path is not None:
        return FileResponse(path, media_type="video/mp4", headers=PUBLIC_HEADERS)
    return StreamingResponse(store.open(clip.blob_key), media_type="video/mp4", headers=PUBLIC_HEADERS)


def add(app: FastAPI) -> None:
    """Register a public clip's page and its video on ``app``."""
    app.include_router(router)
