"""The Upload and Library tabs: send videos (several at once), then follow, rename, index again, cancel or delete them."""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from heimdex.app import service
from heimdex.errors import BadInput
from ui.cards import clock
from ui.common import Shell, event_value, friendly, who
from ui.text import error, say, t

STATES = {
    "uploaded": "state_waiting",
    "queued": "state_waiting",
    "processing": "state_indexing",
    "indexed": "state_ready",
    "failed": "state_failed",
}
PICK_JS = """
element.addEventListener('click', (event) => {
  const card = event.target.closest('[data-video]');
  if (card) trigger('click', {video: card.dataset.video});
});
"""


@dataclass
class LibraryTab:
    upload_files: gr.File
    upload_lang: gr.Dropdown
    upload: gr.Button
    upload_msg: gr.Markdown
    grid: gr.HTML  # the video cards; a click on one picks it (``video``)
    shown: gr.State  # the grid as last sent, so an unchanged library is not sent again
    picked: gr.Dropdown
    title: gr.Textbox
    rename: gr.Button
    reindex: gr.Button
    cancel: gr.Button
    delete: gr.Button
    timer: gr.Timer


def layout() -> LibraryTab:
    with gr.Tab(t("tab_upload"), id="upload"):
        with gr.Row():
            with gr.Column(scale=2):
                upload_files = gr.File(
                    label=t("videos_to_upload"),
                    file_count="multiple",
                    file_types=["video"],
                    type="filepath",
                    elem_id="upload-files",
                )
            with gr.Column(scale=1, min_width=160):
                upload_lang = gr.Dropdown(
                    [(t("detect"), "auto"), (t("english"), "en"), (t("korean"), "ko")],
                    value="auto",
                    label=t("spoken_language"),
                )
                upload = gr.Button(t("upload_and_index"), variant="primary")
        upload_msg = gr.Markdown(elem_id="upload-msg")
    with gr.Tab(t("tab_library"), id="library"):
        grid = gr.HTML("", js_on_load=PICK_JS, elem_id="library")
        shown = gr.State("")
        with gr.Row():
            picked = gr.Dropdown(label=t("video"), choices=[], scale=3, min_width=200, elem_id="picked-video")
            title = gr.Textbox(label=t("new_title"), scale=2, min_width=160)
            rename = gr.Button(t("rename"), min_width=90)
        with gr.Row():
            reindex = gr.Button(t("index_again"), min_width=110)
            cancel = gr.Button(t("cancel_indexing"), min_width=110)
            delete = gr.Button(t("delete"), variant="stop", min_width=90)
        timer = gr.Timer(2.0)
    return LibraryTab(
        upload_files=upload_files,
        upload_lang=upload_lang,
        upload=upload,
        upload_msg=upload_msg,
        grid=grid,
        shown=shown,
        picked=picked,
        title=title,
        rename=rename,
        reindex=reindex,
        cancel=cancel,
        delete=delete,
        timer=timer,
    )


def video_card(video: dict, poster: str | None, lang: str | None) -> str:
    """One video: poster, title, length, state and, while indexing, a live progress bar with its stage."""
    state = video["state"]
    busy = state in ("queued", "processing")
    done = video["progress"] if busy else (1.0 if state == "indexed" else 0.0)
    percent = round(100 * max(0.0, min(1.0, done)))
    stage = html.escape((video.get("stage") or "waiting").replace("_", " ")) if busy else ""
    picture = (
        f"<img src='{poster}' alt='' loading='lazy' onerror='this.remove()'>" if poster and state == "indexed" else ""
    )
    detail = (
        f"<div class='progress' role='progressbar' aria-valuenow='{percent}' aria-valuemin='0' aria-valuemax='100'>"
        f"<div style='width:{percent}%'></div></div><p class='stage'>{stage} · {percent}%</p>"
        if busy
        else f"<p class='stage'>{say(lang, 'scenes', n=video['scene_count'])}</p>"
        if state == "indexed"
        else f"<p class='error'>{html.escape(video.get('error') or '')}</p>"
    )
    title = html.escape(video["title"])
    return (
        f"<article class='video {state}' data-video='{html.escape(video['video_id'])}' tabindex='0' role='button'"
        f" aria-label='{title}'><div class='thumb'>{picture}<span class='when'>{clock(video['duration_s'])}</span>"
        f"<span class='state'>{say(lang, STATES[state]) if state in STATES else html.escape(state)}</span></div>"
        f"<div class='body'><h4>{title}</h4>{detail}</div></article>"
    )


def grid(listed: list[dict], lang: str | None) -> str:
    if not listed:
        return f"<div class='empty'><p>{say(lang, 'no_videos')}</p></div>"
    return "<div class='videos'>" + "".join(video_card(v, v.get("poster"), lang) for v in listed) + "</div>"


CSS = """
.videos {display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 14px}
.video {border: 1px solid var(--border-color-primary); border-radius: 12px; overflow: hidden; cursor: pointer;
  background: var(--background-fill-primary)}
.video .thumb {position: relative; aspect-ratio: 16 / 9; background: #20202a}
.video .thumb img {width: 100%; height: 100%; object-fit: cover; display: block}
.video .when {position: absolute; right: 6px; bottom: 6px; background: rgba(0,0,0,.75); color: #fff; font-size: .8em;
  padding: 1px 6px; border-radius: 6px}
.video .state {position: absolute; left: 6px; top: 6px; background: rgba(0,0,0,.75); color: #fff; font-size: .75em;
  padding: 1px 8px; border-radius: 8px}
.video.failed .state {background: #b91c1c}
.video .body {padding: 8px 10px}
.video h4 {margin: 0 0 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis}
.video .stage, .video .error {margin: 4px 0 0; font-size: .85em; color: var(--body-text-color-subdued)}
.video .error {color: #b91c1c}
.progress {height: 8px; border-radius: 4px; background: var(--border-color-primary)}
.progress div {height: 8px; border-radius: 4px; background: #6366f1; transition: width .5s}
"""


def wire(shell: Shell, tab: LibraryTab, in_video: gr.Dropdown) -> None:
    """``in_video``: the Search tab's choice of video, kept to the library's videos."""
    token = shell.token
    outputs = [tab.grid, tab.shown, tab.picked, in_video]

    def listing(session, lang, last: str = "") -> dict:
        listed: list[dict] = []
        if session:
            try:
                listed = service.videos(session)
            except BadInput as refused:
                if refused.code == "unauthorized":  # signed out elsewhere, or expired: the page forgets it all
                    return {
                        token: "",
                        tab.grid: gr.update(),
                        tab.shown: last,
                        tab.picked: gr.update(),
                        in_video: gr.update(),
                    }
        shown = grid(listed, lang) if session else f"<div class='empty'><p>{say(lang, 'sign_in_to_see')}</p></div>"
        choices = [
            (f"{v['title']} ({say(lang, STATES.get(v['state'], 'state_waiting'))})", v["video_id"]) for v in listed
        ]
        if shown == last:  # nothing changed: send nothing
            return {tab.grid: gr.update(), tab.shown: last, tab.picked: gr.update(), in_video: gr.update()}
        return {  # labels sent again: an updated dropdown loses the page's translation of its label
            tab.grid: shown,
            tab.shown: shown,
            tab.picked: gr.update(choices=choices, label=say(lang, "video")),
            in_video: gr.update(choices=choices, label=say(lang, "in_video")),
        }

    @friendly
    def upload(session, files, language, lang):
        if not files:
            raise BadInput("no_file", "Choose one or more video files first.")
        lines = []
        for file in files if isinstance(files, list) else [files]:
            name = html.escape(Path(str(service.file_path(file))).name)
            try:
                service.upload(session, file, None, language)
                lines.append(f"- ✓ **{name}**: {say(lang, 'uploaded_ok')}")
            except BadInput as refused:  # one bad file never stops the others
                lines.append(f"- ✗ **{name}**: {html.escape(error(lang, refused))}")
        return {
            tab.upload_msg: "\n".join(lines) + "\n\n" + say(lang, "follow_in_library"),
            tab.upload_files: None,
            **listing(session, lang),
        }

    @friendly
    def act(session, video_id, action, lang):
        if not video_id:
            raise BadInput("no_video", "Pick a video first.")
        {"delete": service.delete_video, "reindex": service.reindex, "cancel": service.cancel}[action](
            session, video_id
        )
        gr.Info(say(lang, {"delete": "deleted", "reindex": "indexing_again", "cancel": "cancelling"}[action]))
        return listing(session, lang)

    @friendly
    def rename(session, video_id, title, lang):
        if not video_id:
            raise BadInput("no_video", "Pick a video first.")
        service.rename_video(session, video_id, title)
        gr.Info(say(lang, "renamed"))
        return {**listing(session, lang), tab.title: ""}

    def pick(evt: gr.EventData):
        return gr.update(value=event_value(evt, "video"))

    tab.upload.click(
        upload,
        [token, tab.upload_files, tab.upload_lang, shell.lang],
        [tab.upload_msg, tab.upload_files, *outputs],
        api_visibility="private",
    ).then(who, [token, shell.lang], [shell.who], api_visibility="private")
    tab.timer.tick(
        listing, [token, shell.lang, tab.shown], [*outputs, token], api_visibility="private", show_progress="hidden"
    )
    shell.lang.change(listing, [token, shell.lang], outputs, api_visibility="private")
    shell.token.change(listing, [token, shell.lang], outputs, api_visibility="private")
    tab.grid.click(pick, None, [tab.picked], api_visibility="private")
    tab.rename.click(
        rename, [token, tab.picked, tab.title, shell.lang], [*outputs, tab.title], api_visibility="private"
    )
    for button, action in ((tab.reindex, "reindex"), (tab.cancel, "cancel"), (tab.delete, "delete")):
        button.click(act, [token, tab.picked, gr.State(action), shell.lang], outputs, api_visibility="private")
