"""Heimdex: the Gradio app (Hugging Face Spaces style). UI only: every action calls heimdex.service.

python app.py        # http://127.0.0.1:7860 (PORT / HOST override); the API is at /gradio_api
"""

from __future__ import annotations

import html
import logging
import os
import uuid
from functools import wraps

import gradio as gr
from fastapi import FastAPI
from PIL import Image

from heimdex import service
from heimdex.config import get_settings
from heimdex.errors import BadInput, HeimdexError

log = logging.getLogger("heimdex.app")

CSS = """
.gradio-container {max-width: 1180px !important; width: 100% !important; margin: auto}
#moments .grid-wrap {max-height: none}
#brand h1 {margin-bottom: 0}
#brand p {color: var(--body-text-color-subdued); margin-top: .2rem}
.player video {width: 100%; border-radius: 12px; background: #000; max-height: 520px}
.bar {display: inline-block; width: 110px; height: 8px; border-radius: 4px; background: #e5e7eb; vertical-align: middle}
.bar div {height: 8px; border-radius: 4px; background: #6366f1}
.why span {display: inline-block; margin: 2px 6px 2px 0; padding: 1px 8px; border-radius: 10px; background: var(--color-accent-soft); font-size: .85em}
"""


def friendly(fn):
    """Show a person a sentence, never a traceback; log an unexpected error with its cause and a short id the sentence gives."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (BadInput, HeimdexError) as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except gr.Error:
            raise
        except Exception as exc:
            error_id = uuid.uuid4().hex[:8]
            log.error("error %s in %s", error_id, fn.__name__, exc_info=exc)
            raise gr.Error(
                f"Something went wrong on our side (error {error_id}); please try again.", print_exception=False
            ) from None

    return wrapper


def _client(request: gr.Request | None) -> str | None:
    """The caller's address (rate limits count per address)."""
    return request.client.host if request is not None and request.client else None


def _path(file) -> object:
    """What a client sent for a file: only the path it names, which the service checks against its own uploads."""
    return file.get("path") if isinstance(file, dict) else getattr(file, "path", file)


# ---- API endpoints (gradio_client): the same operations, authenticated by a token ----


@friendly
def api_register(email: str, password: str, request: gr.Request) -> str:
    return service.register(email, password, client=_client(request))


@friendly
def api_login(email: str, password: str, request: gr.Request) -> str:
    return service.login(email, password, client=_client(request))


# Files arrive as plain JSON (what `gradio_client.handle_file` uploads and names), never as gr.FileData:
# Gradio would copy a FileData path into its cache before the session is checked. The service
# reads only a path this user uploaded (heimdex.handoff).
@friendly
def api_upload(token: str, file: dict, title: str = "", language: str = "auto") -> str:
    return service.upload(token, _path(file), title or None, language)


@friendly
def api_videos(token: str) -> list:
    return service.videos(token)


@friendly
def api_search(token: str, query: str, limit: int = 10, person: str = "") -> list:
    return service.search(token, query, int(limit), person=person or None)


@friendly
def api_preview(token: str, video_id: str, start_s: float = 0.0) -> str:
    return service.preview(token, video_id, start_s)


@friendly
def api_delete_video(token: str, video_id: str) -> str:
    return service.delete_video(token, video_id)


@friendly
def api_people(token: str) -> dict:
    return service.people(token)


@friendly
def api_add_person(token: str, name: str, photos: list[dict]) -> dict:
    return service.add_person(token, name, [_path(p) for p in photos] if isinstance(photos, list) else photos)


@friendly
def api_name_face(token: str, face_id: int, name: str) -> dict:
    return service.name_face(token, face_id, name)


@friendly
def api_likely_faces(token: str, person_id: int) -> list:
    return service.likely_faces(token, person_id)


@friendly
def api_scene_faces(token: str, scene_ids: list[int]) -> list:
    return service.scene_faces(token, scene_ids)


@friendly
def api_rename_person(token: str, person_id: int, name: str) -> dict:
    return service.rename_person(token, person_id, name)


@friendly
def api_merge_people(token: str, keep_id: int, other_id: int) -> dict:
    return service.merge_people(token, keep_id, other_id)


@friendly
def api_split_person(token: str, person_id: int) -> list:
    return service.split_person(token, person_id)


@friendly
def api_delete_person(token: str, person_id: int) -> str:
    service.delete_person(token, person_id)
    return "deleted"


API = (
    api_register,
    api_login,
    api_upload,
    api_videos,
    api_search,
    api_preview,
    api_delete_video,
    api_people,
    api_add_person,
    api_scene_faces,
    api_name_face,
    api_likely_faces,
    api_rename_person,
    api_merge_people,
    api_split_person,
    api_delete_person,
)  # served as /register, /login, ...


# ---- UI handlers ----


def _who(token: str) -> str:
    if not token:
        return "### Not signed in\nRegister or sign in to upload and search your videos."
    try:
        me = service.profile(token)
    except BadInput:
        return "### Not signed in\nYour session ended; please sign in again."
    return f"### Signed in as {html.escape(me['display_name'])}\n{me['email']} · plan **{me['tier']}** · {me['usage']}"


@friendly
def ui_register(email, password, name, request: gr.Request):
    token = service.register(email, password, name or "", client=_client(request))
    return token, _who(token), gr.update(value="")


@friendly
def ui_login(email, password, request: gr.Request):
    token = service.login(email, password, client=_client(request))
    return token, _who(token), gr.update(value="")


@friendly
def ui_logout(token):
    if token:
        service.logout(token)
    return "", _who("")


@friendly
def ui_change_password(token, current, new):
    token = service.change_password(token, current, new)
    gr.Info("Password changed; other sessions were signed out.")
    return token, "", ""


@friendly
def ui_delete_account(token, password):
    service.delete_account(token, password)
    gr.Info("Your account and all your videos were deleted.")
    return "", _who("")


@friendly
def ui_upload(token, file, title, language):
    if file is None:
        raise BadInput("no_file", "Choose a video file first.")
    video_id = service.upload(token, file, title or None, language)
    return f"**Uploaded.** Indexing has started — follow it in the Library tab. (video `{video_id}`)"


def _bar(fraction: float) -> str:
    percent = round(100 * max(0.0, min(1.0, fraction)))
    return f"<div class='bar'><div style='width:{percent}%'></div></div> {percent}%"


def _library_rows(token):
    if not token:
        return [], gr.update(choices=[])
    try:
        listed = service.videos(token)
    except BadInput:
        return [], gr.update(choices=[])
    rows = []
    for v in listed:
        progress = _bar(
            v["progress"] if v["state"] in ("queued", "processing") else (1.0 if v["state"] == "indexed" else 0.0)
        )
        rows.append(
            [
                v["title"],
                v["state"],
                v["stage"] or "",
                progress,
                f"{v['duration_s']:.0f} s",
                v["scene_count"],
                v["error"] or "",
            ]
        )
    choices = [(f"{v['title']} ({v['state']})", v["video_id"]) for v in listed]
    return rows, gr.update(choices=choices)


def ui_library(token):
    rows, choices = _library_rows(token)
    return gr.update(value=rows), choices, choices


@friendly
def ui_video_action(token, video_id, action):
    if not video_id:
        raise BadInput("no_video", "Pick a video first.")
    {"delete": service.delete_video, "reindex": service.reindex, "cancel": service.cancel}[action](token, video_id)
    gr.Info({"delete": "Deleted.", "reindex": "Indexing again.", "cancel": "Cancelling."}[action])
    return ui_library(token)


def _picture(path: str | None, size: tuple[int, int] = (480, 270)) -> str | Image.Image:
    return path or Image.new("RGB", size, (32, 32, 40))


@friendly
def ui_rename(token, display_name):
    service.rename(token, display_name)
    return _who(token)


@friendly
def ui_search(token, query, video_id, channels, since_days, person):
    results = service.search(
        token, query, 24, video_id or None, tuple(channels or ()), person=person or None, since_days=since_days or None
    )
    gallery = []
    for r, picture in zip(results, service.pictures(token, [r["thumbnail"] for r in results])):
        why = ", ".join(f"{c} {s:.2f}" for c, s in r["channels"].items())
        gallery.append((_picture(picture), f"{r['title']} · {r['start_s']:.1f}–{r['end_s']:.1f} s · {why}"))
    note = f"**{len(results)} moment(s)**" if results else "No moment matches. Try other words, or another language."
    return gallery, results, note


def _player_html(result, opened):
    why = "".join(f"<span>{html.escape(c)} {s:.2f}</span>" for c, s in result["channels"].items())
    said = html.escape(result["transcript_snippet"]).replace("**", "")
    shown = html.escape(result["ocr_snippet"]).replace("**", "")
    return (
        f"<div class='player'><video src='{opened['src']}' controls autoplay playsinline></video></div>"
        f"<h3>{html.escape(result['title'])} · {result['start_s']:.1f}–{result['end_s']:.1f} s</h3>"
        f"<div class='why'>Why it matched: {why}</div>"
        + (f"<p><b>Said:</b> {said}</p>" if said else "")
        + (f"<p><b>On screen:</b> {shown}</p>" if shown else "")
        + (f"<p><b>With:</b> {html.escape(_with(result))}</p>" if result["people"] else "")
        + (f"<p><b>Seen:</b> {html.escape(result['caption']).replace('**', '')}</p>" if result.get("caption") else "")
        + (f"<p><b>Tags:</b> {html.escape(_evidence(result))}</p>" if result["tags"] else "")
        + f"<p><a href='{opened['clip']}' download>Download this clip</a></p>"
    )


def _with(result) -> str:
    """'Mina (on screen 0.7–4.7 s)': the people asked for, with when they are on screen."""
    seen = result.get("on_screen") or {}
    return ", ".join(
        name + (" (on screen " + ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in seen[name]) + ")" if seen.get(name) else "")
        for name in result["people"]
    )


def _evidence(result) -> str:
    """'man 0.94 (face), blue t-shirt 0.88 (clothing)': each matched tag with its confidence and source."""
    shown = result.get("tag_evidence") or [{"tag": t, "confidence": None, "source": ""} for t in result["tags"]]
    return ", ".join(
        f"{t['tag']} {t['confidence']:.2f} ({t['source']})" if t["confidence"] is not None else t["tag"] for t in shown
    )


def _open(token, result) -> dict:
    """The moment as the Player shows it: one call, one session check."""
    return service.open_moment(
        token, result["video_id"], result["start_s"], result["scene_start_s"], result["end_s"], result["scene_ids"]
    )


def _scene_people(opened):
    """The faces seen in a moment's scenes, named or asking who they are, the listing behind them, no face picked."""
    faces = opened["faces"] if opened else []
    shown = [(_picture(f["picture"], (160, 160)), f["name"] or "Who is this?") for f in faces]
    return shown, faces, None, gr.update(value="", interactive=False)  # the name box opens once a face is picked


@friendly
def ui_open(token, results, index):
    if not results:
        return (
            "<p>Search, then pick a result to play it here.</p>",
            0,
            gr.update(selected="player"),
            *_scene_people(None),
        )
    index = max(0, min(int(index), len(results) - 1))
    opened = _open(token, results[index])
    return _player_html(results[index], opened), index, gr.update(selected="player"), *_scene_people(opened)


def ui_pick_face(faces, evt: gr.SelectData):
    face = faces[evt.index]
    return face["face_id"], gr.update(value=face["name"] or "", interactive=True)


@friendly
def ui_name_face(token, results, index, face_id, name):
    if face_id is None:
        raise BadInput("no_face", "Pick a face first.")
    person = service.name_face(token, face_id, name)
    gr.Info(f"{person['name']}: seen in {person['scenes']} scene(s).")
    return _scene_people(_open(token, results[int(index)]) if results else None)


def ui_select(token, results, evt: gr.SelectData):
    return ui_open(token, results, evt.index)


# ---- People ----


def _who_label(person: dict) -> str:
    seen = f"{person['scenes']} scene(s) in {person['videos']} video(s)"
    return f"{person['name']} · {seen}" if person["name"] else f"Someone · {seen}"


NO_PERSON = "Pick a person or a suggestion to see their faces."


def _people_view(token):
    """Galleries of people and suggestions, the listing behind them, and the name choices for other widgets."""
    listing = service.people(token)
    shown = []
    for kind in ("people", "suggested"):
        pictures = service.face_pictures(token, [p["cover_face_id"] for p in listing[kind]])
        shown.append([(_picture(picture, (160, 160)), _who_label(p)) for p, picture in zip(listing[kind], pictures)])
    everyone = [(_who_label(p), p["person_id"]) for p in listing["people"] + listing["suggested"]]
    names = [("Anyone", "")] + [(p["name"], p["name"]) for p in listing["people"]]
    note = (
        f"**{len(listing['people'])} named, {len(listing['suggested'])} suggested.** "
        "Suggestions group faces seen in your videos; name one to search for them."
    )
    return shown[0], shown[1], listing, gr.update(choices=everyone, value=None), gr.update(choices=names), note


def _no_people(note: str):
    return [], [], {"people": [], "suggested": []}, gr.update(choices=[]), gr.update(choices=[("Anyone", "")]), note


def ui_people(token):
    if not token:
        return _no_people("Sign in to see the people in your videos.")
    try:
        return _people_view(token)
    except BadInput:
        return _no_people("Your session ended; please sign in again.")


def _faces_gallery(label: str, elem_id: str, columns: int = 8, height: int = 200, visible: bool = True):
    """A gallery of face pictures to pick from (no preview: a click picks)."""
    return gr.Gallery(
        label=label,
        columns=columns,
        height=height,
        allow_preview=False,
        object_fit="cover",
        fit_columns=False,
        visible=visible,
        elem_id=elem_id,
    )


def _person_panel(token, person_id, listing):
    """The picked person's heading, faces and name box (``listing``: what :func:`service.people` returned)."""
    person = next((p for p in listing["people"] + listing["suggested"] if p["person_id"] == person_id), None)
    if person is None:
        return None, NO_PERSON, [], "", gr.update(value=[], visible=False), []
    faces = service.person_faces(token, person_id)
    pictures = service.face_pictures(token, [f["face_id"] for f in faces])
    shown = [
        (
            _picture(picture, (160, 160)),
            "photo" if f["reference"] and not f["title"] else f"{f['title']} · {f['t'] or 0:.1f} s",
        )
        for f, picture in zip(faces, pictures)
    ]
    title = html.escape(person["name"] or "Someone not named yet")
    likely = service.likely_faces(token, person_id) if person["name"] else []
    offered = [
        (_picture(picture, (160, 160)), f"{f['title']} · {f['t'] or 0:.1f} s")
        for f, picture in zip(likely, service.face_pictures(token, [f["face_id"] for f in likely]))
    ]
    asking = gr.update(
        value=offered,
        visible=bool(offered),
        label=likely[0]["question"] + " Click each face that is." if likely else "",
    )
    return person_id, f"### {title}\n{_who_label(person)}", shown, person["name"] or "", asking, likely


def _people_and_panel(token, person_id):
    """Everything the People tab shows after a change, with ``person_id`` picked."""
    view = _people_view(token)
    return (*view, *_person_panel(token, person_id, view[2]))


@friendly
def ui_pick_person(token, listing, kind, evt: gr.SelectData):
    return _person_panel(token, listing[kind][evt.index]["person_id"], listing)


@friendly
def ui_confirm_likely(token, person_id, name, likely, evt: gr.SelectData):
    """'Is this also Mina?' — yes: the face becomes one of hers."""
    service.name_face(token, likely[evt.index]["face_id"], name)
    gr.Info(f"Added to {name}'s faces.")
    return _people_and_panel(token, person_id)


@friendly
def ui_add_person(token, name, photos):
    if not photos:
        raise BadInput("no_photo", "Add at least one photo of the person.")
    person = service.add_person(token, name, photos)
    gr.Info(f"{person['name']}: seen in {person['scenes']} scene(s).")
    return (*_people_and_panel(token, person["person_id"]), "", None)


@friendly
def ui_person_action(token, person_id, action, name, other):
    if person_id is None:
        raise BadInput("no_person", "Pick a person first.")
    if action == "name":
        person_id = service.rename_person(token, person_id, name)["person_id"]
    elif action == "merge":
        if other in (None, ""):
            raise BadInput("no_person", "Pick the person to merge with.")
        person_id = service.merge_people(token, person_id, other)["person_id"]
    elif action == "split":
        _, new = service.split_person(token, person_id)
        gr.Info(f"Split: {new['scenes']} scene(s) moved to a new suggestion.")
    else:
        service.delete_person(token, person_id)
        person_id = None
    return _people_and_panel(token, person_id)


# The session token also travels as a same-site cookie, so the browser's uploads to Gradio's
# upload route carry it (heimdex.web.FileGate lets only signed-in requests upload).
SESSION_COOKIE_JS = """(token) => {
  document.cookie = "heimdex_session=" + encodeURIComponent(token || "") + "; path=/; SameSite=Strict"
                    + (token ? "" : "; max-age=0");
  return [];
}"""


def build() -> gr.Blocks:
    with gr.Blocks(title="Heimdex") as demo:
        token = gr.BrowserState("", storage_key="heimdex-token")
        results = gr.State([])
        current = gr.State(0)
        with gr.Row(elem_id="brand"):
            gr.Markdown(
                "# Heimdex\nFind the exact moment in your videos: what was said, shown, written on screen, or who was there."
            )
        who = gr.Markdown(_who(""))
        with gr.Tabs() as tabs:
            with gr.Tab("Account", id="account"):
                with gr.Row():
                    with gr.Column():
                        email = gr.Textbox(label="Email")
                        password = gr.Textbox(label="Password", type="password")
                        name = gr.Textbox(label="Display name (when registering)")
                        with gr.Row():
                            login_btn = gr.Button("Sign in", variant="primary")
                            register_btn = gr.Button("Register")
                        gr.Markdown(
                            "Password reset and email verification need Supabase Auth; local accounts cannot reset a password."
                        )
                    with gr.Column():
                        with gr.Accordion("Profile", open=False):
                            new_name = gr.Textbox(label="Display name")
                            rename_btn = gr.Button("Save name")
                        with gr.Accordion("Change password", open=False):
                            current_pw = gr.Textbox(label="Current password", type="password")
                            new_pw = gr.Textbox(label="New password", type="password")
                            change_btn = gr.Button("Change password")
                        with gr.Accordion("Delete my account", open=False):
                            gone_pw = gr.Textbox(label="Password", type="password")
                            delete_me = gr.Button("Delete my account and all my videos", variant="stop")
                        logout_btn = gr.Button("Sign out")
            with gr.Tab("Upload", id="upload"):
                with gr.Row():
                    with gr.Column(scale=2):
                        upload_file = gr.File(
                            label="Video (up to 10 minutes, 1 GB)", file_types=["video"], type="filepath"
                        )
                    with gr.Column(scale=1):
                        upload_title = gr.Textbox(label="Title (optional)")
                        upload_lang = gr.Dropdown(
                            [("Detect", "auto"), ("English", "en"), ("Korean", "ko")],
                            value="auto",
                            label="Spoken language",
                        )
                        upload_btn = gr.Button("Upload and index", variant="primary")
                upload_msg = gr.Markdown()
            with gr.Tab("Library", id="library"):
                library = gr.Dataframe(
                    headers=["Title", "State", "Stage", "Progress", "Length", "Scenes", "Error"],
                    datatype=["str", "str", "str", "html", "str", "number", "str"],
                    interactive=False,
                    wrap=True,
                    elem_id="library",
                )
                with gr.Row():
                    picked = gr.Dropdown(label="Video", choices=[], scale=3)
                    reindex_btn = gr.Button("Index again")
                    cancel_btn = gr.Button("Cancel indexing")
                    delete_btn = gr.Button("Delete", variant="stop")
                timer = gr.Timer(2.0)
            with gr.Tab("Search", id="search"):
                with gr.Row():
                    query = gr.Textbox(
                        label="What do you remember?",
                        placeholder="ask not what your country · red car · 비상구",
                        scale=4,
                    )
                    search_btn = gr.Button("Search", variant="primary", scale=1)
                with gr.Row():
                    in_video = gr.Dropdown(label="In video", choices=[], scale=2)
                    channels = gr.CheckboxGroup(["transcript", "ocr", "visual"], label="Only these channels", scale=2)
                    since = gr.Dropdown(
                        [("Any time", 0), ("Last 7 days", 7), ("Last 30 days", 30), ("Last year", 365)],
                        value=0,
                        label="Uploaded",
                        scale=1,
                    )
                    with_person = gr.Dropdown([("Anyone", "")], value="", label="With", scale=1, elem_id="with-person")
                found_note = gr.Markdown()
                gallery = gr.Gallery(
                    label="Moments",
                    columns=4,
                    rows=2,
                    height=460,
                    allow_preview=False,
                    object_fit="cover",
                    fit_columns=False,
                    elem_id="moments",
                )
            with gr.Tab("Player", id="player"):
                player = gr.HTML("<p>Search, then pick a result to play it here.</p>", elem_id="player")
                with gr.Row():
                    previous_btn = gr.Button("Previous result")
                    next_btn = gr.Button("Next result")
                scene_faces = gr.State([])
                picked_face = gr.State(None)
                with gr.Row(equal_height=True):
                    faces_here = gr.Gallery(
                        label="People in this scene (pick a face to name it)",
                        columns=8,
                        height=180,
                        scale=3,
                        allow_preview=False,
                        object_fit="cover",
                        fit_columns=False,
                        elem_id="scene-faces",
                    )
                    with gr.Column(scale=1):
                        face_name = gr.Textbox(
                            label="This is", placeholder="Pick a face first", interactive=False, elem_id="face-name"
                        )
                        name_face_btn = gr.Button("Name this face")
            with gr.Tab("People", id="people") as people_tab:
                listing = gr.State({"people": [], "suggested": []})
                chosen = gr.State(None)
                with gr.Row():
                    with gr.Column(scale=3):
                        people_note = gr.Markdown()
                        people_gallery = _faces_gallery("Your people", "people", columns=6, height=230)
                        suggested_gallery = _faces_gallery(
                            "Suggested: the same face seen more than once, not named yet", "suggested", 6, 230
                        )
                    with gr.Column(scale=1):
                        gr.Markdown("### Add a person")
                        person_new = gr.Textbox(label="Name", elem_id="person-new")
                        person_photos = gr.File(
                            label="Photos (one face each)",
                            file_count="multiple",
                            file_types=["image"],
                            type="filepath",
                            elem_id="person-photos",
                        )
                        add_person_btn = gr.Button("Add person", variant="primary")
                person_title = gr.Markdown(NO_PERSON, elem_id="person-title")
                person_gallery = _faces_gallery("Their faces", "person-faces")
                likely_gallery = _faces_gallery("Is this also them?", "person-likely", visible=False)
                likely = gr.State([])
                with gr.Row(equal_height=True):
                    person_name = gr.Textbox(label="Name", scale=2, elem_id="person-name")
                    name_btn = gr.Button("Save name", scale=1)
                    merge_with = gr.Dropdown(label="Merge with", choices=[], scale=2)
                    merge_btn = gr.Button("Merge", scale=1)
                with gr.Row():
                    scenes_btn = gr.Button("Show their scenes", variant="primary")
                    split_btn = gr.Button("Split in two (two people grouped as one)")
                    forget_btn = gr.Button("Forget this person", variant="stop")

        outs = [token, who]
        token.change(None, [token], None, js=SESSION_COOKIE_JS)
        demo.load(None, [token], None, js=SESSION_COOKIE_JS)
        login_btn.click(ui_login, [email, password], [token, who, password], api_visibility="private")
        register_btn.click(ui_register, [email, password, name], [token, who, password], api_visibility="private")
        logout_btn.click(ui_logout, [token], outs, api_visibility="private")
        rename_btn.click(ui_rename, [token, new_name], [who], api_visibility="private")
        change_btn.click(
            ui_change_password, [token, current_pw, new_pw], [token, current_pw, new_pw], api_visibility="private"
        )
        delete_me.click(ui_delete_account, [token, gone_pw], outs, api_visibility="private")
        upload_btn.click(
            ui_upload, [token, upload_file, upload_title, upload_lang], [upload_msg], api_visibility="private"
        ).then(_who, [token], [who], api_visibility="private")
        timer.tick(ui_library, [token], [library, picked, in_video], api_visibility="private", show_progress="hidden")
        demo.load(ui_library, [token], [library, picked, in_video], api_visibility="private")
        demo.load(_who, [token], [who], api_visibility="private")
        for button, action in ((reindex_btn, "reindex"), (cancel_btn, "cancel"), (delete_btn, "delete")):
            button.click(
                ui_video_action,
                [token, picked, gr.State(action)],
                [library, picked, in_video],
                api_visibility="private",
            )
        searches = get_settings().search_concurrency
        for trigger in (query.submit, search_btn.click):
            trigger(
                ui_search,
                [token, query, in_video, channels, since, with_person],
                [gallery, results, found_note],
                api_visibility="private",
                concurrency_limit=searches,
                concurrency_id="search",
            )
        people_outs = [people_gallery, suggested_gallery, listing, merge_with, with_person, people_note]
        panel = [chosen, person_title, person_gallery, person_name, likely_gallery, likely]
        demo.load(ui_people, [token], people_outs, api_visibility="private")
        people_tab.select(ui_people, [token], people_outs, api_visibility="private")
        people_gallery.select(ui_pick_person, [token, listing, gr.State("people")], panel, api_visibility="private")
        suggested_gallery.select(
            ui_pick_person, [token, listing, gr.State("suggested")], panel, api_visibility="private"
        )
        add_person_btn.click(
            ui_add_person,
            [token, person_new, person_photos],
            people_outs + panel + [person_new, person_photos],
            api_visibility="private",
        )
        for button, action in ((name_btn, "name"), (merge_btn, "merge"), (split_btn, "split"), (forget_btn, "forget")):
            button.click(
                ui_person_action,
                [token, chosen, gr.State(action), person_name, merge_with],
                people_outs + panel,
                api_visibility="private",
            )
        likely_gallery.select(
            ui_confirm_likely, [token, chosen, person_name, likely], people_outs + panel, api_visibility="private"
        )
        scenes_btn.click(
            lambda name: (gr.update(value=name), "", gr.update(selected="search")),
            [person_name],
            [with_person, query, tabs],
            api_visibility="private",
        ).then(
            ui_search,
            [token, query, in_video, channels, since, with_person],
            [gallery, results, found_note],
            api_visibility="private",
        )
        opened = [player, current, tabs, faces_here, scene_faces, picked_face, face_name]
        gallery.select(ui_select, [token, results], opened, api_visibility="private")
        previous_btn.click(
            lambda t, r, i: ui_open(t, r, i - 1), [token, results, current], opened, api_visibility="private"
        )
        next_btn.click(
            lambda t, r, i: ui_open(t, r, i + 1), [token, results, current], opened, api_visibility="private"
        )
        faces_here.select(ui_pick_face, [scene_faces], [picked_face, face_name], api_visibility="private")
        name_face_btn.click(
            ui_name_face,
            [token, results, current, picked_face, face_name],
            [faces_here, scene_faces, picked_face, face_name],
            api_visibility="private",
        )

        for endpoint in API:
            name = endpoint.__name__.removeprefix("api_")
            if name == "search":  # answered directly too (POST /gradio_api/run/search), without the queue's overhead
                gr.api(endpoint, api_name=name, concurrency_limit=searches, concurrency_id="search", queue=False)  # pyright: ignore[reportPrivateImportUsage]
            else:
                gr.api(endpoint, api_name=name)  # pyright: ignore[reportPrivateImportUsage]
    return demo


def create_app() -> FastAPI:
    """The web app: the gate on Gradio's file routes, signed media routes, then the Gradio UI and API at /.

    Gradio keeps its uploads and pictures in ``$HEIMDEX_DATA_DIR/gradio`` (swept by the upkeep loop).
    """
    from heimdex.web import FileGate, add_routes

    settings = get_settings()
    os.environ["GRADIO_TEMP_DIR"] = str(settings.gradio_dir)  # read by Gradio as its blocks are built
    app = add_routes(FastAPI(title="Heimdex"))
    app.add_middleware(FileGate)
    demo = build().queue(default_concurrency_limit=4)
    return gr.mount_gradio_app(
        app,
        demo,
        path="/",
        theme=gr.themes.Soft(primary_hue="indigo"),  # pyright: ignore[reportPrivateImportUsage]
        css=CSS,
        max_file_size=settings.max_upload_bytes,
        footer_links=["api"],
    )


if __name__ == "__main__":
    import uvicorn

    from heimdex import upkeep
    from heimdex.jobs.queue import reset_queue

    logging.basicConfig(level=get_settings().log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    upkeep.start(app=True)  # queued jobs and jobs whose worker died run again, now and every few seconds
    try:
        uvicorn.run(create_app(), host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "7860")))
    finally:
        reset_queue()  # stop the indexing children; a job they were running is recovered at the next start
