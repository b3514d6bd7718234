"""The Upload and Library tabs: send videos (several at once); find, play, rename, index again, cancel or delete them;
restore them from the Trash."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
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
STAGES = {  # a job's stage → what a person reads (text keys)
    "reading": "stage_reading",
    "audio": "stage_listening",
    "transcribe": "stage_listening",
    "frames": "stage_looking",
    "proxy": "stage_playback",
    "scenes": "stage_looking",
    "keyframes": "stage_looking",
    "ocr": "stage_reading_text",
    "visual": "stage_looking",
    "faces": "stage_faces",
    "embed": "stage_searchable",
    "commit": "stage_saving",
}
ORDERS = ("newest", "oldest", "title", "length")
# A click on a card, or Enter on its title, plays it (``submit``); its menu's items act on it (``click``). The grid is
# sent anew as indexing goes on: an open menu stays open, and the focused title keeps the focus.
LIBRARY_JS = """
let menuOf = null, focusOf = null;
element.addEventListener('click', (event) => {
  const item = event.target.closest('[data-action]');
  if (item) {
    event.preventDefault();
    menuOf = null;
    trigger('click', {video: item.dataset.for, action: item.dataset.action});
    return;
  }
  const summary = event.target.closest('details.menu > summary');
  if (summary) {  // known now, not at 'toggle', which is lost if the grid is sent anew before it fires
    menuOf = summary.parentElement.open ? null : summary.parentElement.dataset.for;
    return;
  }
  if (event.target.closest('.menu')) return;
  const card = event.target.closest('article[data-video]');
  if (card) trigger('submit', {video: card.dataset.video});
});
element.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && menuOf) element.querySelectorAll('details.menu[open]').forEach((d) => { d.open = false; });
});
element.addEventListener('toggle', (event) => {
  if (event.target.matches && event.target.matches('details.menu')) menuOf = event.target.open ? event.target.dataset.for : null;
}, true);
element.addEventListener('focusin', (event) => {
  focusOf = event.target.matches('button.play') ? event.target.dataset.for : null;
});
new MutationObserver(() => {
  if (menuOf) {
    const menu = element.querySelector(`details.menu[data-for="${menuOf}"]`);
    if (menu && !menu.open) menu.open = true;
  }
  if (focusOf && (document.activeElement === document.body || !document.activeElement)) {
    const title = element.querySelector(`button.play[data-for="${focusOf}"]`);
    if (title) title.focus();
  }
}).observe(element, {childList: true, subtree: true});
"""


@dataclass
class UploadTab:
    files: gr.File
    language: gr.Dropdown
    send: gr.Button
    message: gr.Markdown


@dataclass
class LibraryTab:
    words: gr.Textbox  # only titles with these words
    order: gr.Dropdown
    grid: gr.HTML  # the video cards: a click plays one (``submit``), its menu acts on it (``click``)
    shown: gr.State  # the grid as last sent, so an unchanged library is not sent again
    acting: gr.State  # what the rename or confirmation row is about: {"video", "action", "title"}
    renaming: gr.Row
    title: gr.Textbox
    save_title: gr.Button
    confirming: gr.Row
    question: gr.Markdown
    confirm: gr.Button
    keep: gr.Button
    trash_box: gr.Accordion
    trash: gr.HTML  # the videos in the Trash, each with Restore and Delete forever (``click``)
    empty_trash: gr.Button
    timer: gr.Timer


def upload_layout() -> UploadTab:
    with gr.Tab(t("tab_upload"), id="upload"):
        with gr.Row():
            with gr.Column(scale=2):
                files = gr.File(  # any file: the server reads what it is, and says so in a sentence
                    label=t("videos_to_upload"), file_count="multiple", type="filepath", elem_id="upload-files"
                )
            with gr.Column(scale=1, min_width=160):
                language = gr.Dropdown(
                    [(t("detect"), "auto"), (t("english"), "en"), (t("korean"), "ko")],
                    value="auto",
                    label=t("spoken_language"),
                )
                send = gr.Button(t("upload_and_index"), variant="primary", elem_id="upload-button")
        message = gr.Markdown(elem_id="upload-msg")
    return UploadTab(files=files, language=language, send=send, message=message)


def layout() -> LibraryTab:
    with gr.Tab(t("tab_library"), id="library"):
        with gr.Row(equal_height=True):
            words = gr.Textbox(label=t("filter_titles"), scale=3, min_width=160, elem_id="library-words")
            order = gr.Dropdown(
                [(t("order_" + order), order) for order in ORDERS],
                value="newest",
                label=t("sort_by"),
                scale=1,
                min_width=140,
                elem_id="library-order",
            )
        with gr.Row(visible=False, equal_height=True, elem_id="rename-row") as renaming:
            title = gr.Textbox(label=t("new_title"), scale=3, min_width=160, elem_id="new-title")
            save_title = gr.Button(t("rename"), variant="primary", min_width=90)
        with gr.Row(visible=False, equal_height=True, elem_id="confirm-row") as confirming:
            question = gr.Markdown("", elem_id="question")
            confirm = gr.Button(t("move_to_trash"), variant="stop", min_width=120, elem_id="confirm")
            keep = gr.Button(t("keep"), min_width=90, elem_id="keep")
        grid = gr.HTML("", js_on_load=LIBRARY_JS, elem_id="library")
        shown = gr.State("")
        acting = gr.State(None)
        with gr.Accordion(t("trash"), open=False, elem_id="trash-box") as trash_box:
            trash = gr.HTML("", js_on_load=LIBRARY_JS, elem_id="trash")
            empty_trash = gr.Button(t("empty_trash"), variant="stop", elem_id="empty-trash")
        timer = gr.Timer(2.0)
    return LibraryTab(
        words=words,
        order=order,
        grid=grid,
        shown=shown,
        acting=acting,
        renaming=renaming,
        title=title,
        save_title=save_title,
        confirming=confirming,
        question=question,
        confirm=confirm,
        keep=keep,
        trash_box=trash_box,
        trash=trash,
        empty_trash=empty_trash,
        timer=timer,
    )


def menu(video: dict, lang: str | None) -> str:
    """A card's menu: only the actions that apply to the video as it is now."""
    state, video_id = video["state"], html.escape(video["video_id"])
    actions = ["rename"]
    actions += ["cancel"] if state in ("queued", "processing") else ["reindex"]
    actions += ["delete"]
    items = "".join(
        f"<button type='button' role='menuitem' data-for='{video_id}' data-action='{action}'"
        f"{' class=danger' if action == 'delete' else ''}>{say(lang, 'do_' + action)}</button>"
        for action in actions
    )
    label = html.escape(say(lang, "actions_for", title=video["title"]))
    return (
        f"<details class='menu' data-for='{video_id}'><summary title='{label}'><span aria-hidden='true'>⋯</span>"
        f"<span class='sr-only'>{label}</span></summary>"
        f"<div class='items' role='menu'>{items}</div></details>"
    )


def doing(stage: str | None, lang: str | None) -> str:
    """What a job is doing, in words: its stages run at once (``"transcribe, frames"``), each said once."""
    keys = [STAGES[name.strip()] for name in (stage or "").split(",") if name.strip() in STAGES]
    return ", ".join(say(lang, key) for key in dict.fromkeys(keys or ["stage_waiting"]))


def video_card(video: dict, lang: str | None) -> str:
    """One video: poster, title, length, state and, while indexing, a live progress bar with its stage in words."""
    state = video["state"]
    busy = state in ("queued", "processing")
    done = video["progress"] if busy else (1.0 if state == "indexed" else 0.0)
    percent = round(100 * max(0.0, min(1.0, done)))
    stage = doing(video.get("stage"), lang) if busy else ""
    title = html.escape(video["title"])
    poster = video.get("poster")
    picture = (
        f"<img src='{html.escape(poster)}' alt='{title}' loading='lazy' onerror='this.remove()'>"
        if poster and state == "indexed"
        else ""
    )
    detail = (
        f"<div class='progress' role='progressbar' aria-label='{html.escape(stage)}' aria-valuenow='{percent}'"
        f" aria-valuemin='0' aria-valuemax='100'><div style='width:{percent}%'></div></div>"
        f"<p class='stage'>{html.escape(stage)} · {percent}%</p>"
        if busy
        else f"<p class='stage'>{say(lang, 'scenes', n=video['scene_count'])}</p>"
        if state == "indexed"
        else f"<p class='error'>{html.escape(video.get('error') or '')}</p>"
    )
    state_name = say(lang, STATES[state]) if state in STATES else html.escape(state)
    video_id = html.escape(video["video_id"])
    return (  # the title is the card's button (a click anywhere else on it plays it too); the menu sits beside it
        f"<article class='video {state}' data-video='{video_id}'><div class='thumb'>{picture}"
        f"<span class='when'>{clock(video['duration_s'])}</span><span class='state'>{state_name}</span></div>"
        f"<div class='body'><div class='head'><h3 title='{title}'><button type='button' class='play'"
        f" data-for='{video_id}'>{title}</button></h3>{menu(video, lang)}</div>{detail}</div></article>"
    )


def viewer_offset(sent: object) -> int:
    """The browser's minutes ahead of UTC as it said them, kept to the world's offsets (±14 h); 0 if not a number."""
    try:
        return max(-14 * 60, min(14 * 60, int(float(str(sent)))))
    except (ValueError, OverflowError):
        return 0


def day_of(video: dict, offset_min: int) -> datetime:
    """The day (at the viewer's UTC offset) the video was uploaded."""
    uploaded = datetime.fromisoformat(video["created_at"])
    return uploaded.astimezone(timezone(timedelta(minutes=offset_min)))


def day_name(day: datetime, today: datetime, lang: str | None) -> str:
    """'Today', 'Yesterday', or the date."""
    if day.date() == today.date():
        return say(lang, "today")
    if day.date() == (today - timedelta(days=1)).date():
        return say(lang, "yesterday")
    return say(lang, "on_day", year=day.year, month=day.month, day=day.day)


def arranged(listed: list[dict], order: str | None, words: str | None) -> list[dict]:
    """The videos whose title has every word of ``words``, in ``order`` (newest, oldest, title, length)."""
    wanted = (words or "").casefold().split()
    kept = [v for v in listed if all(w in v["title"].casefold() for w in wanted)]
    if order == "title":
        return sorted(kept, key=lambda v: v["title"].casefold())
    if order == "length":
        return sorted(kept, key=lambda v: -v["duration_s"])
    return sorted(kept, key=lambda v: v["created_at"], reverse=order != "oldest")


def grid(listed: list[dict], order: str | None, words: str | None, lang: str | None, offset_min: int = 0) -> str:
    """The cards: by upload day (newest or oldest first), or in one run by title or by length."""
    if not listed:
        return f"<div class='empty'><p>{say(lang, 'no_videos')}</p></div>"
    kept = arranged(listed, order, words)
    if not kept:
        return f"<div class='empty'><p>{html.escape(say(lang, 'no_titles', words=words or ''))}</p></div>"
    if order in ("title", "length"):
        return "<div class='videos'>" + "".join(video_card(v, lang) for v in kept) + "</div>"
    today = datetime.now(timezone(timedelta(minutes=offset_min)))
    days: dict[str, list[dict]] = {}
    for video in kept:
        days.setdefault(day_name(day_of(video, offset_min), today, lang), []).append(video)
    return "".join(
        f"<section class='day'><h2>{html.escape(day)}</h2><div class='videos'>"
        + "".join(video_card(v, lang) for v in videos)
        + "</div></section>"
        for day, videos in days.items()
    )


def trash_html(trashed: list[dict], lang: str | None) -> str:
    """The videos in the Trash, each with when it goes for good, Restore and Delete forever."""
    if not trashed:
        return f"<p class='quiet'>{say(lang, 'trash_empty')}</p>"
    rows = "".join(
        f"<li><span class='title'>{html.escape(v['title'])}</span> · {clock(v['duration_s'])} · "
        f"{say(lang, 'gone_on', when=v['emptied_at'][:10])}"
        f" <button type='button' data-for='{html.escape(v['video_id'])}' data-action='restore'>"
        f"{say(lang, 'restore')}</button>"
        f" <button type='button' class='danger' data-for='{html.escape(v['video_id'])}' data-action='forever'>"
        f"{say(lang, 'delete_forever')}</button></li>"
        for v in trashed
    )
    return f"<p>{say(lang, 'trash_note')}</p><ul class='trashed'>{rows}</ul>"


CSS = """
.videos {display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 14px}
.day h2 {font-size: 1em; margin: 14px 0 8px; color: #374151}
.video {border: 1px solid var(--border-color-primary); border-radius: 12px; cursor: pointer;
  background: var(--background-fill-primary)}
.video .thumb {position: relative; aspect-ratio: 16 / 9; background: #20202a; border-radius: 12px 12px 0 0; overflow: hidden}
.video .thumb img {width: 100%; height: 100%; object-fit: cover; display: block}
.video .when {position: absolute; right: 6px; bottom: 6px; background: rgba(0,0,0,.8); color: #fff; font-size: .8em;
  padding: 1px 6px; border-radius: 6px}
.video .state {position: absolute; left: 6px; top: 6px; background: rgba(0,0,0,.8); color: #fff; font-size: .75em;
  padding: 1px 8px; border-radius: 8px}
.video.failed .state {background: #b91c1c}
.video .body {padding: 8px 10px}
.video .head {display: flex; align-items: start; gap: 4px}
.video h3 {flex: 1; min-width: 0; margin: 0 0 4px; font-size: 1em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis}
.video .menu {position: relative}
.video .menu summary {list-style: none; cursor: pointer; padding: 0 10px; border-radius: 8px; font-size: 1.2em; line-height: 1.4}
.video .menu summary::-webkit-details-marker {display: none}
.video .menu summary:hover {background: var(--background-fill-secondary)}
.video .menu .items {position: absolute; right: 0; z-index: 20; display: flex; flex-direction: column; min-width: 150px;
  background: var(--background-fill-primary); border: 1px solid var(--border-color-primary); border-radius: 10px;
  box-shadow: 0 6px 18px rgba(0,0,0,.15); padding: 4px}
.video .menu button, .trashed button {text-align: left; padding: 6px 10px; border-radius: 6px; background: none;
  border: 0; cursor: pointer; color: inherit; font: inherit}
.trashed button {border: 1px solid var(--border-color-primary); padding: 2px 10px}
.video .menu button:hover, .trashed button:hover {background: var(--background-fill-secondary)}
.video .menu button.danger, .trashed button.danger {color: #b91c1c}
.trashed {list-style: none; padding: 0} .trashed li {padding: 4px 0}
.video .stage, .video .error {margin: 4px 0 0; font-size: .85em; color: #4b5563}
.video .error {color: #b91c1c}
.video .progress {height: 8px; border-radius: 4px; background: var(--border-color-primary)}
.video .progress div {height: 8px; border-radius: 4px; background: #4f46e5; transition: width .5s}
.video h3 .play {all: unset; cursor: pointer; display: block; overflow: hidden; text-overflow: ellipsis}
"""


def wire(shell: Shell, tab: LibraryTab, up: UploadTab, in_video: gr.Dropdown) -> None:
    """``in_video``: the Search tab's choice of video, kept to the library's videos."""
    token, lang = shell.token, shell.lang
    outputs = [tab.grid, tab.shown, in_video]
    arranging = [tab.order, tab.words, shell.offset]

    def listing(session, lang, order="newest", words="", offset=0, last: str = "", strict: bool = False) -> dict:
        """The grid as the library is now (``strict``: a session found ended raises, for the tick to renew it)."""
        listed: list[dict] = []
        if session:
            try:
                listed = service.videos(session)
            except BadInput as refused:
                if refused.code == "unauthorized":  # signed out elsewhere, or expired: the grid waits
                    if strict:
                        raise
                    return {tab.grid: gr.update(), tab.shown: last, in_video: gr.update()}
        offset = viewer_offset(offset)
        shown = (
            grid(listed, order, words, lang, offset)
            if session
            else f"<div class='empty'><p>{say(lang, 'sign_in_to_see')}</p></div>"
        )
        if shown == last:  # nothing changed: send nothing
            return {tab.grid: gr.update(), tab.shown: last, in_video: gr.update()}
        choices = [
            (f"{v['title']} ({say(lang, STATES.get(v['state'], 'state_waiting'))})", v["video_id"]) for v in listed
        ]
        return {  # the label sent again: an updated dropdown loses the page's translation of its label
            tab.grid: shown,
            tab.shown: shown,
            in_video: gr.update(choices=choices, label=say(lang, "in_video")),
        }

    def trash_listing(session, lang) -> dict:
        try:
            trashed = service.trash(session) if session else []
        except BadInput:  # the session ended (the page is told by the tick) or the database is away a moment
            trashed = []
        return {
            tab.trash: trash_html(trashed, lang),
            tab.trash_box: gr.update(label=say(lang, "trash_count", n=len(trashed)) if trashed else say(lang, "trash")),
        }

    def settled(session, lang, order, words, offset) -> dict:
        """After an action: the cards, the Trash and the usage line as they are now; no row asking anything."""
        return {
            **listing(session, lang, order, words, offset),
            **trash_listing(session, lang),
            shell.who: who(session, lang),
            tab.renaming: gr.update(visible=False),
            tab.confirming: gr.update(visible=False),
            tab.acting: None,
        }

    @friendly
    def upload(session, files, language, lang, order, words, offset):
        if not files:
            raise BadInput("no_file", "Choose one or more video files first.")
        before = {v["video_id"]: v for v in service.videos(session)}
        lines = []
        for file in files if isinstance(files, list) else [files]:
            name = html.escape(Path(str(service.file_path(file))).name)
            try:
                video_id = service.upload(session, file, None, language)
            except BadInput as refused:  # one bad file never stops the others
                lines.append(f"- ✗ **{name}**: {html.escape(error(lang, refused))}")
                continue
            if video_id in before:  # the same bytes: recognised by their hash, nothing stored twice
                link = html.escape(service.share_link(session, video_id, 0.0))
                title = html.escape(before[video_id]["title"])
                lines.append(f"- ✓ **{name}**: {say(lang, 'already_have', title=title, link=link)}")
            else:
                lines.append(f"- ✓ **{name}**: {say(lang, 'uploaded_ok')}")
        return {
            up.message: "\n".join(lines) + "\n\n" + say(lang, "follow_in_library"),
            up.files: None,
            **settled(session, lang, order, words, offset),
        }

    @friendly
    def card_action(session, lang, order, words, offset, evt: gr.EventData):
        """A card's menu item: rename and delete ask first; index again, cancel, restore act at once."""
        video_id, action = event_value(evt, "video"), event_value(evt, "action")
        if not isinstance(video_id, str) or action not in (
            "rename",
            "reindex",
            "cancel",
            "delete",
            "restore",
            "forever",
        ):
            raise BadInput("no_video", "Pick a video first.")
        if action in ("rename", "delete", "forever"):
            video = service.video_status(session, video_id) if action != "forever" else None
            title = (
                video["title"]
                if video
                else next((v["title"] for v in service.trash(session) if v["video_id"] == video_id), None)
            )
            if title is None:
                raise BadInput("video_not_found", "No video with that id.")
            acting = {"video": video_id, "action": action, "title": title}
            if action == "rename":
                return {
                    tab.acting: acting,
                    tab.renaming: gr.update(visible=True),
                    tab.title: gr.update(value=title),
                    tab.confirming: gr.update(visible=False),
                }
            asked = "ask_trash" if action == "delete" else "ask_forever"
            return {
                tab.acting: acting,
                tab.confirming: gr.update(visible=True),
                tab.question: say(lang, asked, title=html.escape(title)),
                tab.confirm: gr.update(value=say(lang, "move_to_trash" if action == "delete" else "delete_forever")),
                tab.renaming: gr.update(visible=False),
            }
        {"reindex": service.reindex, "cancel": service.cancel, "restore": service.restore_video}[action](
            session, video_id
        )
        gr.Info(say(lang, {"reindex": "indexing_again", "cancel": "cancelling", "restore": "restored"}[action]))
        return settled(session, lang, order, words, offset)

    @friendly
    def confirmed(session, acting, lang, order, words, offset):
        if not isinstance(acting, dict):
            raise BadInput("no_video", "Pick a video first.")
        if acting["action"] == "delete":
            service.delete_video(session, acting["video"])
            gr.Info(say(lang, "moved_to_trash", title=acting["title"]))
        elif acting["action"] == "forever":
            service.delete_forever(session, acting["video"])
            gr.Info(say(lang, "deleted_forever", title=acting["title"]))
        elif acting["action"] == "empty":
            n = service.empty_trash(session)
            gr.Info(say(lang, "trash_emptied", n=n))
        return {**settled(session, lang, order, words, offset), shell.gone: acting["video"]}

    @friendly
    def rename(session, acting, title, lang, order, words, offset):
        if not isinstance(acting, dict):
            raise BadInput("no_video", "Pick a video first.")
        service.rename_video(session, acting["video"], title)
        gr.Info(say(lang, "renamed"))
        return settled(session, lang, order, words, offset)

    def ask_empty(lang):
        return {
            tab.acting: {"video": "", "action": "empty", "title": ""},
            tab.confirming: gr.update(visible=True),
            tab.question: say(lang, "ask_empty"),
            tab.confirm: gr.update(value=say(lang, "empty_trash")),
        }

    def kept():
        return {tab.acting: None, tab.confirming: gr.update(visible=False), tab.renaming: gr.update(visible=False)}

    changed = [
        *outputs,
        tab.trash,
        tab.trash_box,
        shell.who,
        tab.renaming,
        tab.confirming,
        tab.acting,
        tab.title,
        tab.question,
        tab.confirm,
    ]
    up.send.click(
        upload,
        [token, up.files, up.language, lang, *arranging],
        [up.message, up.files, *changed],
        api_visibility="private",
    )

    def ticking(session, lang, order, words, offset, last, request: gr.Request) -> dict:
        """The grid every few seconds; an access token found expired is renewed from the page's cookie, and a
        session that ended signs the page out (it forgets everything)."""
        try:
            return listing(session, lang, order, words, offset, last, strict=True)
        except BadInput:
            return shell.renewed(session, request) or {tab.grid: gr.update()}

    tab.timer.tick(
        ticking,
        [token, lang, *arranging, tab.shown],
        [*outputs, token, shell.renew],
        show_progress="hidden",
        api_visibility="private",
    )
    for change in (lang.change, token.change, tab.order.change, tab.words.change):
        change(listing, [token, lang, *arranging], outputs, show_progress="hidden", api_visibility="private")
    for change in (lang.change, token.change):
        change(
            trash_listing, [token, lang], [tab.trash, tab.trash_box], show_progress="hidden", api_visibility="private"
        )
    for cards in (tab.grid, tab.trash):
        cards.click(card_action, [token, lang, *arranging], changed, api_visibility="private")
    tab.confirm.click(
        confirmed, [token, tab.acting, lang, *arranging], [*changed, shell.gone], api_visibility="private"
    )
    tab.save_title.click(rename, [token, tab.acting, tab.title, lang, *arranging], changed, api_visibility="private")
    tab.title.submit(rename, [token, tab.acting, tab.title, lang, *arranging], changed, api_visibility="private")
    tab.keep.click(kept, None, [tab.acting, tab.confirming, tab.renaming], api_visibility="private")
    tab.empty_trash.click(
        ask_empty, [lang], [tab.acting, tab.confirming, tab.question, tab.confirm], api_visibility="private"
    )
