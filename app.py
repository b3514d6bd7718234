"""Heimdex: the Gradio app (Hugging Face Spaces style). UI only: every action calls heimdex.service.

    python app.py        # http://127.0.0.1:7860 (PORT / HOST override); the API is at /gradio_api
"""

from __future__ import annotations

import html
import io
import os
from functools import wraps

import gradio as gr
from fastapi import FastAPI
from PIL import Image

from heimdex import service
from heimdex.auth import accounts
from heimdex.errors import BadInput, HeimdexError

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
    """Show a person a sentence, never a traceback."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (BadInput, HeimdexError) as exc:
            raise gr.Error(getattr(exc, "message", str(exc)), print_exception=False) from None
        except gr.Error:
            raise
        except Exception:
            raise gr.Error("Something went wrong on our side; please try again.", print_exception=True) from None

    return wrapper


# ---- API endpoints (gradio_client): the same operations, authenticated by a token ----

@friendly
def api_register(email: str, password: str) -> str:
    return accounts.register(service._db(), email, password)


@friendly
def api_login(email: str, password: str) -> str:
    return accounts.login(service._db(), email, password)


@friendly
def api_upload(token: str, file: gr.FileData, title: str = "", language: str = "auto") -> str:
    return service.upload(token, file["path"] if isinstance(file, dict) else file.path, title or None, language)


@friendly
def api_videos(token: str) -> list:
    return service.videos(token)


@friendly
def api_search(token: str, query: str, limit: int = 10) -> list:
    return service.search(token, query, int(limit))


@friendly
def api_preview(token: str, video_id: str, start_s: float = 0.0) -> str:
    return service.preview(token, video_id, start_s)


@friendly
def api_delete_video(token: str, video_id: str) -> str:
    return service.delete_video(token, video_id)


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
def ui_register(email, password, name):
    token = accounts.register(service._db(), email, password, name or "")
    return token, _who(token), gr.update(value="")


@friendly
def ui_login(email, password):
    token = accounts.login(service._db(), email, password)
    return token, _who(token), gr.update(value="")


@friendly
def ui_logout(token):
    if token:
        accounts.logout(service._db(), token)
    return "", _who("")


@friendly
def ui_change_password(token, current, new):
    token = accounts.change_password(service._db(), token, current, new)
    gr.Info("Password changed; other sessions were signed out.")
    return token, "", ""


@friendly
def ui_delete_account(token, password):
    accounts.delete_account(service._db(), service._store(), token, password)
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
    return (f"<div class='bar'><div style='width:{percent}%'></div></div> {percent}%")


def _library_rows(token):
    if not token:
        return [], gr.update(choices=[])
    try:
        listed = service.videos(token)
    except BadInput:
        return [], gr.update(choices=[])
    rows = []
    for v in listed:
        progress = _bar(v["progress"] if v["state"] in ("queued", "processing") else (1.0 if v["state"] == "indexed" else 0.0))
        rows.append([v["title"], v["state"], v["stage"] or "", progress, f"{v['duration_s']:.0f} s", v["scene_count"], v["error"] or ""])
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


def _picture(data: bytes | None) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB") if data else Image.new("RGB", (480, 270), (32, 32, 40))


@friendly
def ui_rename(token, display_name):
    service.rename(token, display_name)
    return _who(token)


@friendly
def ui_search(token, query, video_id, channels, since_days):
    results = service.search(token, query, 24, video_id or None, tuple(channels or ()), since_days=since_days or None)
    gallery = []
    for r, picture in zip(results, service.thumbnails(token, [r["thumbnail"] for r in results])):
        why = ", ".join(f"{c} {s:.2f}" for c, s in r["channels"].items())
        gallery.append((_picture(picture), f"{r['title']} · {r['start_s']:.1f}–{r['end_s']:.1f} s · {why}"))
    note = f"**{len(results)} moment(s)**" if results else "No moment matches. Try other words, or another language."
    return gallery, results, note


def _player_html(token, result):
    src = service.preview(token, result["video_id"], result["start_s"])
    clip = service.clip_link(token, result["video_id"], result["scene_start_s"], result["end_s"])
    why = "".join(f"<span>{html.escape(c)} {s:.2f}</span>" for c, s in result["channels"].items())
    said = html.escape(result["transcript_snippet"]).replace("**", "")
    shown = html.escape(result["ocr_snippet"]).replace("**", "")
    return (
        f"<div class='player'><video src='{src}' controls autoplay playsinline></video></div>"
        f"<h3>{html.escape(result['title'])} · {result['start_s']:.1f}–{result['end_s']:.1f} s</h3>"
        f"<div class='why'>Why it matched: {why}</div>"
        + (f"<p><b>Said:</b> {said}</p>" if said else "")
        + (f"<p><b>On screen:</b> {shown}</p>" if shown else "")
        + (f"<p><b>Tags:</b> {html.escape(', '.join(result['tags']))}</p>" if result["tags"] else "")
        + f"<p><a href='{clip}' download>Download this clip</a></p>"
    )


@friendly
def ui_open(token, results, index):
    if not results:
        return "<p>Search, then pick a result to play it here.</p>", 0, gr.update(selected="player")
    index = max(0, min(int(index), len(results) - 1))
    return _player_html(token, results[index]), index, gr.update(selected="player")


def ui_select(token, results, evt: gr.SelectData):
    return ui_open(token, results, evt.index)


def build() -> gr.Blocks:
    with gr.Blocks(title="Heimdex") as demo:
        token = gr.BrowserState("", storage_key="heimdex-token")
        results = gr.State([])
        current = gr.State(0)
        with gr.Row(elem_id="brand"):
            gr.Markdown("# Heimdex\nFind the exact moment in your videos: what was said, shown, or written on screen.")
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
                        gr.Markdown("Password reset and email verification need Supabase Auth; local accounts cannot reset a password.")
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
                        upload_file = gr.File(label="Video (up to 10 minutes, 1 GB)", file_types=["video"], type="filepath")
                    with gr.Column(scale=1):
                        upload_title = gr.Textbox(label="Title (optional)")
                        upload_lang = gr.Dropdown([("Detect", "auto"), ("English", "en"), ("Korean", "ko")], value="auto", label="Spoken language")
                        upload_btn = gr.Button("Upload and index", variant="primary")
                upload_msg = gr.Markdown()
            with gr.Tab("Library", id="library"):
                library = gr.Dataframe(
                    headers=["Title", "State", "Stage", "Progress", "Length", "Scenes", "Error"],
                    datatype=["str", "str", "str", "html", "str", "number", "str"], interactive=False, wrap=True,
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
                    query = gr.Textbox(label="What do you remember?", placeholder="ask not what your country · red car · 비상구", scale=4)
                    search_btn = gr.Button("Search", variant="primary", scale=1)
                with gr.Row():
                    in_video = gr.Dropdown(label="In video", choices=[], scale=2)
                    channels = gr.CheckboxGroup(["transcript", "ocr", "visual"], label="Only these channels", scale=2)
                    since = gr.Dropdown([("Any time", 0), ("Last 7 days", 7), ("Last 30 days", 30), ("Last year", 365)],
                                        value=0, label="Uploaded", scale=1)
                found_note = gr.Markdown()
                gallery = gr.Gallery(label="Moments", columns=4, rows=2, height=460, allow_preview=False, object_fit="cover", fit_columns=False,
                                     elem_id="moments")
            with gr.Tab("Player", id="player"):
                player = gr.HTML("<p>Search, then pick a result to play it here.</p>", elem_id="player")
                with gr.Row():
                    previous_btn = gr.Button("Previous result")
                    next_btn = gr.Button("Next result")

        outs = [token, who]
        login_btn.click(ui_login, [email, password], [token, who, password], api_visibility="private")
        register_btn.click(ui_register, [email, password, name], [token, who, password], api_visibility="private")
        logout_btn.click(ui_logout, [token], outs, api_visibility="private")
        rename_btn.click(ui_rename, [token, new_name], [who], api_visibility="private")
        change_btn.click(ui_change_password, [token, current_pw, new_pw], [token, current_pw, new_pw], api_visibility="private")
        delete_me.click(ui_delete_account, [token, gone_pw], outs, api_visibility="private")
        upload_btn.click(ui_upload, [token, upload_file, upload_title, upload_lang], [upload_msg], api_visibility="private").then(
            _who, [token], [who], api_visibility="private")
        timer.tick(ui_library, [token], [library, picked, in_video], api_visibility="private", show_progress="hidden")
        demo.load(ui_library, [token], [library, picked, in_video], api_visibility="private")
        demo.load(_who, [token], [who], api_visibility="private")
        for button, action in ((reindex_btn, "reindex"), (cancel_btn, "cancel"), (delete_btn, "delete")):
            button.click(ui_video_action, [token, picked, gr.State(action)], [library, picked, in_video], api_visibility="private")
        for trigger in (query.submit, search_btn.click):
            trigger(ui_search, [token, query, in_video, channels, since], [gallery, results, found_note], api_visibility="private")
        gallery.select(ui_select, [token, results], [player, current, tabs], api_visibility="private")
        previous_btn.click(lambda t, r, i: ui_open(t, r, i - 1), [token, results, current], [player, current, tabs], api_visibility="private")
        next_btn.click(lambda t, r, i: ui_open(t, r, i + 1), [token, results, current], [player, current, tabs], api_visibility="private")

        gr.api(api_register, api_name="register")
        gr.api(api_login, api_name="login")
        gr.api(api_upload, api_name="upload")
        gr.api(api_videos, api_name="videos")
        gr.api(api_search, api_name="search")
        gr.api(api_preview, api_name="preview")
        gr.api(api_delete_video, api_name="delete_video")
    return demo


def create_app() -> FastAPI:
    """The web app: signed media routes, then the Gradio UI and API at /."""
    from heimdex.web import add_routes

    app = add_routes(FastAPI(title="Heimdex"))
    return gr.mount_gradio_app(app, build(), path="/", theme=gr.themes.Soft(primary_hue="indigo"), css=CSS,
                               max_file_size="1gb", footer_links=["api"])


if __name__ == "__main__":
    import uvicorn

    from heimdex.jobs import resume

    resume()  # queued jobs (and jobs whose worker died) run again
    uvicorn.run(create_app(), host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "7860")))
