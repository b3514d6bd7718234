"""Every operation of Heimdex, declared once: what does it, who may call it, and its limits.

The session doors (:mod:`heimdex.app.service`) and the API's endpoints (``ui/api.py``, served as
``/gradio_api/...`` under the operation's name) are both built from :data:`OPERATIONS`; an answer's
shape is the action's return type (:mod:`heimdex.app.results`).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from heimdex.app import core
from heimdex.app.core import account
from heimdex.auth.accounts import LINK_SENT


class Caller(StrEnum):
    """Who may call an operation."""

    USER = "user"  # a signed-in user: the session token is resolved before anything is read
    SESSION = "session"  # the holder of a session token, acting on the session itself (the account layer checks it)
    ANYONE = "anyone"  # no session yet; limited per caller address (``client``)


@dataclass(frozen=True)
class Operation:
    action: Callable[..., Any]  # USER: action(user, ...); SESSION: action(token, ...); ANYONE: action(...)
    caller: Caller = Caller.USER
    rate: str | None = None  # a :data:`heimdex.library.quotas.LIMITS` action, counted per user before acting
    in_line: bool = False  # waits its turn with the other searches (``HEIMDEX_SEARCH_CONCURRENCY`` at once)
    files: tuple[str, ...] = ()  # parameters naming the caller's uploads: deleted when the door refuses the call
    words: str | None = None  # the parameter holding a person's words: logged only with ``HEIMDEX_LOG_QUERIES``
    api: tuple[str, ...] | None = ()  # the parameters the API takes after the token; None: no endpoint; (): all
    answer: str | None = None  # what the API says for an action that answers nothing

    @property
    def name(self) -> str:
        return self.action.__name__

    def parameters(self) -> list[inspect.Parameter]:
        """The action's parameters after the user or token, with their types resolved."""
        hints = typing.get_type_hints(self.action)
        found = list(inspect.signature(self.action).parameters.values())
        if self.caller != Caller.ANYONE:
            found = found[1:]
        return [p.replace(annotation=hints.get(p.name, Any)) for p in found]

    def returns(self) -> Any:
        return typing.get_type_hints(self.action).get("return", Any)

    def logged(self, answer: object) -> dict[str, object]:
        """What the action's log line says of its answer: how many results, or the id of what it made."""
        if isinstance(answer, dict) and "total" in answer:
            return {"results": len(typing.cast(dict[str, list[object]], answer)["moments"])}
        if isinstance(answer, list):
            return {"results": len(typing.cast(list[object], answer))}
        if self.files and isinstance(answer, str):
            return {"made": answer}
        return {}


OPERATIONS: tuple[Operation, ...] = (
    # accounts
    Operation(account.register, Caller.ANYONE, api=("email", "password")),
    Operation(account.login, Caller.ANYONE, api=("email", "password")),
    Operation(account.refresh, Caller.ANYONE),
    Operation(account.request_password_reset, Caller.ANYONE, api=("email", "lang"), answer=LINK_SENT),
    Operation(account.reset_password, Caller.ANYONE, api=("link", "new_password")),
    Operation(account.request_magic_link, Caller.ANYONE, api=("email", "lang"), answer=LINK_SENT),
    Operation(account.magic_link_sign_in, Caller.ANYONE, api=("link",)),
    Operation(account.verify_email, Caller.ANYONE, answer="Your email address is confirmed."),
    Operation(account.supabase_link_sign_in, Caller.ANYONE, api=("access_token",)),
    Operation(account.resend_verification, Caller.SESSION, answer="A new link is on its way to your email."),
    Operation(account.logout, Caller.SESSION, answer="signed out"),
    Operation(account.sessions, Caller.SESSION),
    Operation(account.end_session, Caller.SESSION, answer="signed out there"),
    Operation(account.sign_out_everywhere, Caller.SESSION, answer="signed out everywhere"),
    Operation(account.activity, Caller.SESSION),
    Operation(account.change_password, Caller.SESSION, api=("current", "new")),
    Operation(account.rename, Caller.SESSION, api=None),
    Operation(account.delete_account, Caller.SESSION, api=None),
    Operation(core.profile, api=None),
    Operation(core.account_summary, api=None),
    # videos
    Operation(core.upload, rate="upload", files=("file",)),
    Operation(core.videos),
    Operation(core.video_status, api=None),
    Operation(core.rename_video, api=None),
    Operation(core.reindex),
    Operation(core.cancel, api=None),
    Operation(core.delete_video),  # to the Trash
    Operation(core.trash),
    Operation(core.restore_video),
    Operation(core.delete_forever),
    Operation(core.empty_trash),
    # search and the player
    Operation(core.search, rate="search", in_line=True, words="query", api=("query", "limit", "person")),
    Operation(core.preview),
    Operation(core.transcript, api=("video_id",)),
    Operation(core.moment),
    Operation(core.open_moment, api=None),
    Operation(core.share_link, api=None),
    Operation(core.open_shared, api=None),
    Operation(core.clip_link, api=None),
    # download my data
    Operation(core.export_data, rate="export"),
    Operation(core.export_status),
    # public links
    Operation(core.publish_clip),
    Operation(core.unpublish_clip, answer="off"),
    Operation(core.public_clips),
    # people
    Operation(core.people),
    Operation(core.add_person, files=("photos",)),
    Operation(core.scene_faces),
    Operation(core.name_face),
    Operation(core.likely_faces),
    Operation(core.person_faces, api=None),
    Operation(core.rename_person),
    Operation(core.merge_people),
    Operation(core.split_person),
    Operation(core.delete_person, answer="deleted"),
    Operation(core.pictures, api=None),
    Operation(core.face_pictures, api=None),
)

BY_NAME = {operation.name: operation for operation in OPERATIONS}
