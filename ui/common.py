"""What every tab shares: the signed-in session, error sentences, pictures, and the app's shell."""

from __future__ import annotations

import html
import inspect
import logging
import uuid
from dataclasses import dataclass
from functools import wraps

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


@dataclass
class Shell:
    """The state and components every tab may read or change."""

    token: gr.BrowserState  # the session token, kept in the browser
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
