"""What every tab shares: the signed-in session, error sentences, pictures, and the app's shell."""

from __future__ import annotations

import html
import inspect
import logging
import uuid
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlsplit

import gradio as gr
from PIL import Image

from heimdex.app import service
from heimdex.errors import BadInput, HeimdexError
from ui.text import EN, error, say

log = logging.getLogger("heimdex.app")


def friendly(fn):
    """Show a person a sentence in their language (the handler's ``lang`` argument), never a traceback; log an
    unexpected error with its cause and a short id the sentence gives."""
    signature = inspect.signature(fn)

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:
            try:
                lang = signature.bind_partial(*args, **kwargs).arguments.get("lang")
            except TypeError:
                lang = None
            if isinstance(exc, BadInput):
                raise gr.Error(error(lang, exc), title=say(lang, exc.answer.title), print_exception=False) from None
            if isinstance(exc, HeimdexError):
                raise gr.Error(str(exc), title=say(lang, exc.answer.title), print_exception=False) from None
            error_id = uuid.uuid4().hex[:8]
            log.error("error %s in %s", error_id, fn.__name__, exc_info=exc)
            raise gr.Error(
                say(lang, "something_wrong", id=error_id), title=say(lang, "title_error"), print_exception=False
            ) from None

    return wrapper


def event_value(evt: object, name: str) -> object:
    """A value an event's data carries, ``None`` when the event came without it (a hand-made call)."""
    try:
        return getattr(evt, name, None)
    except TypeError:  # Gradio's EventData with no data at all
        return None


def chosen(items: object, evt: object) -> dict:
    """The item of ``items`` an event's data picks; :class:`BadInput` when the event came without a usable index
    (a hand-made call): a sentence, never an internal error."""
    index = event_value(evt, "index")
    if isinstance(index, (list, tuple)) and index:  # a gallery may send [row, column]
        index = index[0]
    if not isinstance(items, list) or not isinstance(index, int) or isinstance(index, bool):
        raise BadInput("nothing_picked", "Pick one first.")
    if not 0 <= index < len(items) or not isinstance(items[index], dict):
        raise BadInput("nothing_picked", "Pick one first.")
    return items[index]


def client(request: gr.Request | None) -> str | None:
    """The caller's address (rate limits count per address): X-Forwarded-For only from a trusted proxy."""
    if request is None or not request.client:
        return None
    forwarded = request.headers.get("x-forwarded-for") if request.headers else None
    return service.caller_address(request.client.host, forwarded)


def agent(request: gr.Request | None) -> str:
    """The caller's browser as it names itself (shown in Account → Sessions, never trusted for anything)."""
    if request is None or not request.headers:
        return ""
    return (request.headers.get("user-agent") or "")[:400]


def picture(path: str | None, size: tuple[int, int] = (480, 270)) -> str | Image.Image:
    """A picture file to show, or a dark placeholder of ``size``."""
    return path or Image.new("RGB", size, (32, 32, 40))


def me(token: str | None) -> dict | None:
    """The signed-in person's profile; None when nobody is signed in or the session ended."""
    if not token:
        return None
    try:
        return service.profile(token)
    except BadInput:
        return None


def who_acts(token: str | None) -> str:
    """The user and session a token acts for (``""``: nobody): the same after the token is renewed."""
    profile = me(token)
    return profile["session"] if profile else ""


def who(token: str | None, lang: str | None = None, profile: dict | None = None) -> str:
    """The line under the title: who is signed in, their plan and what they use (``profile``: :func:`me`'s, if
    already read)."""
    found = profile or me(token)
    if found is None:
        return say(lang, "session_ended" if token else "not_signed_in")
    plan = "plan_" + found["tier"]
    return say(
        lang,
        "signed_in_as",
        name=html.escape(found["display_name"]),
        email=html.escape(found["email"]),
        tier=say(lang, plan) if plan in EN else html.escape(found["tier"]),
        usage=say(lang, "usage", **found["quota"]),
    )


def same_origin(request: gr.Request | None) -> bool:
    """Whether a request came from a page of this app: the browser says so (``Sec-Fetch-Site``), or, from one that
    does not, its ``Origin`` names this host. Only those renew from the refresh cookie."""
    headers = getattr(request, "headers", None) or {}
    fetched = headers.get("sec-fetch-site")
    if fetched is not None:
        return fetched == "same-origin"
    origin = headers.get("origin")
    return origin is None or urlsplit(origin).netloc == headers.get("host", "")


REFRESH_COOKIE = "heimdex_refresh"  # where the page keeps its refresh token (ui/account.py writes it)


@dataclass
class Shell:
    """The state and components every tab may read or change."""

    token: gr.BrowserState  # the session's access token, kept in the browser, renewed every few minutes
    renew: gr.Textbox  # the refresh token just given (hidden): the page keeps it in a cookie, one for all its tabs
    seen: gr.State  # who the page shows ("<user>:<session>"): a renewed token is the same session, nothing is cleared
    who: gr.Markdown
    tabs: gr.Tabs
    found: gr.State  # the Search tab's moments (dicts, as the API returns them), its cards in order
    found_for: gr.State  # the words they were found for
    results: gr.State  # the Player's list: the moments Previous and Next step through
    current: gr.State  # the index in ``results`` of the moment the Player shows
    asked: gr.State  # the words ``results`` were found for (the Player marks their matches)
    gone: gr.State  # the id of the video last moved to the Trash or deleted: every tab drops what it showed of it
    lang: gr.Textbox  # the page's language (en, ko), set by the browser; hidden
    offset: gr.Number  # the browser's minutes ahead of UTC (the Library groups videos by the viewer's day); hidden

    def renewed(self, session: str | None, request: gr.Request | None) -> dict:
        """A new access token from the refresh cookie (every tab of the browser shares it); signed out (both
        tokens blank) if the session ended, elsewhere or because a copy of its token was used; nothing if there
        is no cookie and no session, or the database is away for a moment."""
        if not same_origin(request):  # another site's page asking with this browser's cookie gets nothing
            return {}
        kept = (getattr(request, "cookies", None) or {}).get(REFRESH_COOKIE, "")
        if not kept:  # no cookie (a page inside another site's frame may not send it): signed out once it expired
            return {self.token: "", self.renew: ""} if session and me(session) is None else {}
        try:
            pair = service.refresh(kept)
        except BadInput as refused:
            return {self.token: "", self.renew: ""} if refused.code == "unauthorized" else {}
        return {self.token: pair["access_token"], self.renew: pair["refresh_token"]}
