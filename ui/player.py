"""The Player tab: the moment playing, why it matched, who is in it (and naming them)."""

from __future__ import annotations

import html
from dataclasses import dataclass

import gradio as gr

from heimdex.app import service
from heimdex.errors import BadInput
from ui.cards import channel_name, clock, marked
from ui.common import Shell, chosen, event_value, friendly, picture
from ui.text import error, say, scene_words, t, tag_name

COPY_JS = """
element.addEventListener('click', (event) => {
  const share = event.target.closest('[data-share]');
  if (!share) return;
  navigator.clipboard && navigator.clipboard.writeText(location.origin + share.dataset.share);
  share.classList.add('copied');
});
"""
SPEEDS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
SEEK_JS = (
    COPY_JS
    + """
const video = () => element.querySelector('video');
element.addEventListener('click', (event) => {
  const at = event.target.closest('[data-t]');
  if (!at || !video()) return;
  event.preventDefault();
  video().currentTime = Number(at.dataset.t);
  video().play();
});
element.addEventListener('change', (event) => {  // the speed control; kept for the next video
  if (!event.target.matches('select.speed') || !video()) return;
  video().playbackRate = Number(event.target.value);
  localStorage.setItem('heimdex-speed', event.target.value);
});
element.addEventListener('loadedmetadata', (event) => {  // capture: media events do not bubble
  const speed = localStorage.getItem('heimdex-speed');
  if (!speed) return;
  event.target.playbackRate = Number(speed);
  const pick = element.querySelector('select.speed');
  if (pick) pick.value = speed;
}, true);
document.addEventListener('keydown', (event) => {  // the Player's keys, while it is on screen
  const v = video();
  if (!v || !element.offsetParent || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest('input, textarea, select, [contenteditable]')) return;
  const press = (id) => { const b = document.getElementById(id); if (b && !b.disabled) b.click(); };
  const keys = {
    ' ': () => (v.paused ? v.play() : v.pause()),
    k: () => press('next-result'),
    j: () => press('previous-result'),
    ArrowRight: () => { v.currentTime = Math.min(v.duration || Infinity, v.currentTime + 5); },
    ArrowLeft: () => { v.currentTime = Math.max(0, v.currentTime - 5); },
    c: () => { const t = v.textTracks[0]; if (t) t.mode = t.mode === 'showing' ? 'hidden' : 'showing'; },
  };
  const act = keys[event.key];
  if (!act || (event.key === ' ' && event.target.closest('button, a, summary'))) return;
  event.preventDefault();
  act();
});
element.addEventListener('timeupdate', (event) => {  // capture: timeupdate does not bubble
  const now = event.target.currentTime;
  element.querySelectorAll('.transcript li').forEach((line) => {
    const on = Number(line.dataset.t) <= now && now < Number(line.dataset.e);
    if (on && !line.classList.contains('now')) line.scrollIntoView({block: 'nearest'});
    line.classList.toggle('now', on);
  });
}, true);
"""
)


@dataclass
class PlayerTab:
    player: gr.HTML
    previous: gr.Button
    next: gr.Button
    where: gr.Markdown  # "2 of 12": where the open moment sits in the list Previous and Next step through
    within: gr.Textbox  # search in this video
    find_within: gr.Button
    faces: gr.State  # the listing behind the faces shown
    picked_face: gr.State
    faces_here: gr.Gallery
    face_name: gr.Textbox
    name_face: gr.Button
    public: gr.Checkbox  # anyone with the link can watch the clip
    public_link: gr.HTML
    published: gr.State  # the open clip's public link (as the service gives it), or None


def layout() -> PlayerTab:
    with gr.Tab(t("tab_player"), id="player"):
        player = gr.HTML("", js_on_load=SEEK_JS, elem_id="player")
        with gr.Row(equal_height=True):
            previous = gr.Button(t("previous"), min_width=100, interactive=False, elem_id="previous-result")
            where = gr.Markdown("", elem_id="where", min_height=0)
            next_ = gr.Button(t("next"), min_width=100, interactive=False, elem_id="next-result")
        with gr.Row(equal_height=True):
            within = gr.Textbox(
                label=t("search_in_video"),
                show_label=False,
                placeholder=t("search_in_video"),
                scale=3,
                min_width=160,
                elem_id="within",
                html_attributes=gr.InputHTMLAttributes(enterkeyhint="search", autocomplete="off"),
            )
            find_within = gr.Button(t("find"), min_width=80)
        gr.Markdown(t("player_keys"), elem_id="player-keys")
        with gr.Group():
            public = gr.Checkbox(label=t("make_public"), value=False, elem_id="public-clip")
            public_link = gr.HTML("", js_on_load=COPY_JS, elem_id="public-link", padding=False)
        published = gr.State(None)
        faces = gr.State([])
        picked_face = gr.State(None)
        with gr.Row(equal_height=True):
            faces_here = gr.Gallery(
                label=t("people_in_scene"),
                columns=8,
                height=180,
                scale=3,
                allow_preview=False,
                object_fit="cover",
                fit_columns=False,
                elem_id="scene-faces",
                elem_classes=["faces"],
            )
            with gr.Column(scale=1, min_width=160):
                face_name = gr.Textbox(
                    label=t("this_is"), placeholder=t("pick_face_first"), interactive=False, elem_id="face-name"
                )
                name_face = gr.Button(t("name_this_face"))
    return PlayerTab(
        player=player,
        previous=previous,
        next=next_,
        where=where,
        within=within,
        find_within=find_within,
        faces=faces,
        picked_face=picked_face,
        faces_here=faces_here,
        face_name=face_name,
        name_face=name_face,
        public=public,
        public_link=public_link,
        published=published,
    )


def signed_out(tab: PlayerTab, lang: str | None = None) -> dict:
    """Nothing of the last user left in the Player: its video (and so its playback), faces and public link."""
    return {
        tab.player: "",
        tab.previous: gr.update(interactive=False),
        tab.next: gr.update(interactive=False),
        tab.where: "",
        tab.within: "",
        tab.faces: [],
        tab.picked_face: None,
        tab.faces_here: [],
        tab.face_name: gr.update(value="", interactive=False),
        tab.public: False,
        tab.public_link: "",
        tab.published: None,
    }


def timeline(marks: list[dict], duration_s: float, opened_at: float, lang: str | None) -> str:
    """A strip under the video with a mark at every matching moment of it; a click plays that moment."""
    if not marks or duration_s <= 0:
        return ""
    shown = []
    for mark in marks:
        left = 100 * min(1.0, mark["start_s"] / duration_s)
        width = max(0.8, 100 * min(1.0, (mark["end_s"] - mark["start_s"]) / duration_s))
        current = " now" if mark["scene_start_s"] <= opened_at <= mark["end_s"] else ""
        shown.append(
            f"<button class='mark{current}' data-t='{mark['start_s']:.2f}' style='left:{left:.2f}%;width:{width:.2f}%'"
            f" title='{clock(mark['start_s'])}' aria-label='{clock(mark['start_s'])}'></button>"
        )
    return f"<div class='timeline' role='group' aria-label='{say(lang, 'where_matches')}'>{''.join(shown)}</div>"


def transcript_panel(segments: list[dict], lang: str | None) -> str:
    """The whole video's speech, a line per row with its time; a click plays from there, matched words marked."""
    if not segments:
        return f"<div class='transcript'><p class='quiet'>{say(lang, 'nothing_said')}</p></div>"
    rows = "".join(
        f"<li data-t='{s['start_s']:.2f}' data-e='{s['end_s']:.2f}' tabindex='0'><span class='at'>{clock(s['start_s'])}</span>"
        f"{marked(s.get('marked', s['text']))}</li>"
        for s in segments
    )
    return f"<div class='transcript'><h4>{say(lang, 'transcript')}</h4><ol>{rows}</ol></div>"


def moment_html(
    result: dict, opened: dict, segments: list[dict], marks: list[dict], share: str, lang: str | None
) -> str:
    """The video at the moment with captions, where else it matches, what matched, and the whole transcript."""
    why = "".join(f"<span>{channel_name(c, lang)} {round(100 * s)}%</span>" for c, s in result["channels"].items())
    said = marked(result["transcript_snippet"])
    shown = marked(result["ocr_snippet"])
    files = opened["transcript_files"]
    seen, _ = scene_words(result.get("caption") or "", result["tags"], lang, matched=bool(result["channels"]))
    return (
        "<div class='watch'><div class='main'>"
        f"<div class='player'><video src='{opened['src']}' controls autoplay playsinline>"
        f"<track kind='captions' src='{opened['captions']}' srclang='{html.escape(opened['language'])}'"
        " label='Captions' default></video></div>"
        + timeline(marks, opened["duration_s"], result["start_s"], lang)
        + f"<h3>{html.escape(result['title'])} · {clock(result['start_s'])}–{clock(result['end_s'])}</h3>"
        f"<div class='why'>{say(lang, 'why')}: {why}</div>"
        + (f"<p><b>{say(lang, 'said')}:</b> {said}</p>" if said else "")
        + (f"<p><b>{say(lang, 'on_screen')}:</b> {shown}</p>" if shown else "")
        + (f"<p><b>{say(lang, 'with')}:</b> {html.escape(with_whom(result))}</p>" if result["people"] else "")
        + (f"<p><b>{say(lang, 'seen')}:</b> {marked(seen)}</p>" if seen else "")
        + (f"<p><b>{say(lang, 'tags')}:</b> {html.escape(evidence(result, lang))}</p>" if result["tags"] else "")
        + f"<p class='files'><a href='{opened['clip']}' download>{say(lang, 'download_clip')}</a>"
        + f" · <button class='share' data-share='{html.escape(share)}'>{say(lang, 'copy_link')}</button>"
        + (
            f" · {say(lang, 'transcript')}: <a href='{files['srt']}' download>.srt</a>"
            f" · <a href='{files['vtt-file']}' download>.vtt</a>"
            if segments
            else ""
        )
        + "</p>"
        + speed_control(lang)
        + "</div>"
        + transcript_panel(segments, lang)
        + "</div>"
    )


def speed_control(lang: str | None) -> str:
    """A playback speed picker (the page remembers the choice)."""
    options = "".join(f"<option value='{x}'{' selected' if x == 1.0 else ''}>{x:g}×</option>" for x in SPEEDS)
    return f"<label class='speed'>{say(lang, 'speed')} <select class='speed'>{options}</select></label>"


def public_html(published: dict | None, lang: str | None) -> str:
    """The public link of the open clip, to open or copy; nothing while it is off."""
    if not published:
        return ""
    url = html.escape(published["url"])
    return (
        f"<p class='public'>{say(lang, 'public_on', start=clock(published['start_s']), end=clock(published['end_s']))}"
        f" <a class='url' href='{url}' target='_blank' rel='noopener'>{url}</a>"
        f" <button class='share' data-share='{url}'>{say(lang, 'copy')}</button></p>"
    )


def with_whom(result: dict) -> str:
    """'Mina (on screen 0.7–4.7 s)': the people asked for, with when they are on screen."""
    seen = result.get("on_screen") or {}
    return ", ".join(
        name + (" (on screen " + ", ".join(f"{a:.1f}–{b:.1f} s" for a, b in seen[name]) + ")" if seen.get(name) else "")
        for name in result["people"]
    )


def evidence(result: dict, lang: str | None = None) -> str:
    """'man 0.94 (face), blue t-shirt 0.88 (clothing)': each matched tag, in the page's language, with its confidence
    and source."""
    shown = result.get("tag_evidence") or [{"tag": t, "confidence": None, "source": ""} for t in result["tags"]]
    return ", ".join(
        f"{tag_name(t['tag'], lang)} {t['confidence']:.2f} ({t['source']})"
        if t["confidence"] is not None
        else tag_name(t["tag"], lang)
        for t in shown
    )


def open_moment(token: str, result: dict) -> dict:
    """The moment as the Player shows it: one call, one session check."""
    start = result.get("play_s", result["start_s"])  # a second before the evidence: it is seen arriving
    return service.open_moment(token, result["video_id"], start, start, result["end_s"], result["scene_ids"])


def position(index: object, results: list) -> int:
    """Which of ``results`` an index from the page means (clamped; anything not a whole number is the first)."""
    try:
        whole = int(str(index))
    except ValueError:
        whole = 0
    return max(0, min(whole, len(results) - 1))


def same_moment(results: object, video_id: object, start: object) -> int | None:
    """Where in ``results`` the moment of ``video_id`` starting at ``start`` seconds is; None if it is not there."""
    if not isinstance(results, list) or not isinstance(video_id, str) or not isinstance(start, (int, float)):
        return None
    for index, result in enumerate(results):
        if isinstance(result, dict) and result.get("video_id") == video_id and abs(result["start_s"] - start) < 0.01:
            return index
    return None


def faces_shown(opened: dict | None, lang: str | None) -> list[tuple[object, str]]:
    """The faces seen in a moment's scenes for the gallery: each picture, with its name or the question who it is."""
    return [
        (picture(f["picture"], (160, 160)), f["name"] or say(lang, "who_is_this"))
        for f in (opened or {}).get("faces", [])
    ]


def marks_in(results: list[dict], video_id: str) -> list[dict]:
    """The moments of ``results`` in one video: the timeline's marks."""
    return [r for r in results if r["video_id"] == video_id]


def shared_moment(found: dict, start_s: float) -> dict:
    """A moment to play from what a share link opened (:func:`heimdex.app.core.moments.open_shared`): its scene, from
    the second the link names, with nothing said to have matched."""
    scene = found["scene"]
    return {
        "video_id": found["video"]["video_id"],
        "title": found["video"]["title"],
        "start_s": start_s,
        "end_s": scene["end_s"],
        "scene_start_s": scene["start_s"],
        "scene_ids": [scene["scene_id"]],
        "channels": {},
        "transcript_snippet": "",
        "ocr_snippet": "",
        "caption": scene["caption"],
        "people": [],
        "tags": [],
    }


class Handlers:
    """What the Player does when it is used; each handler answers the components it changes."""

    def __init__(self, shell: Shell, tab: PlayerTab):
        self.shell, self.tab = shell, tab
        self.faces = [tab.faces_here, tab.faces, tab.picked_face, tab.face_name]
        self.public = [tab.public, tab.public_link, tab.published]
        self.steps = [tab.previous, tab.next, tab.where]
        self.opened = [tab.player, shell.current, shell.tabs, *self.steps, *self.faces, *self.public]
        self.listed = [*self.opened, shell.results, shell.asked]  # what opening a new list of moments changes

    def people_in(self, opened: dict | None, lang) -> dict:
        """The faces seen in a moment's scenes, named or asking who they are; no face picked, the name box shut."""
        return {
            self.tab.faces_here: faces_shown(opened, lang),
            self.tab.faces: opened["faces"] if opened else [],
            self.tab.picked_face: None,
            self.tab.face_name: gr.update(value="", interactive=False),
        }

    def public_shown(self, published: dict | None, lang) -> dict:
        return {
            self.tab.public: published is not None,
            self.tab.public_link: public_html(published, lang),
            self.tab.published: published,
        }

    def stepping(self, index: int, results: list, lang) -> dict:
        """Previous and Next, each usable only where there is a moment to go to; where this one sits."""
        return {
            self.tab.previous: gr.update(interactive=index > 0),
            self.tab.next: gr.update(interactive=index < len(results) - 1),
            self.tab.where: say(lang, "n_of", n=index + 1, total=len(results)) if len(results) > 1 else "",
        }

    def play(self, token, results, index, asked, lang) -> dict:
        """The moment ``index`` of ``results``, with every match of ``asked`` in its video marked."""
        moved = {self.shell.tabs: gr.update(selected="player")}
        if not results:
            empty = {self.tab.player: f"<p>{say(lang, 'nothing_yet')}</p>", self.shell.current: 0}
            stepping = self.stepping(0, [], lang)
            return {**empty, **moved, **stepping, **self.people_in(None, lang), **self.public_shown(None, lang)}
        index = position(index, results)
        result = results[index]
        opened = open_moment(token, result)
        segments = service.transcript(token, result["video_id"], asked or "")["segments"]
        if asked:  # every moment of this video that matches, not only those on the results page
            marks = service.search(token, asked, 100, result["video_id"])["moments"]
        else:
            marks = marks_in(results, result["video_id"])
        share = service.share_link(token, result["video_id"], result["start_s"])
        return {
            self.tab.player: moment_html(result, opened, segments, marks, share, lang),
            self.shell.current: index,
            **moved,
            **self.stepping(index, results, lang),
            **self.people_in(opened, lang),
            **self.public_shown(opened["public"], lang),
        }

    def forget(self, gone, results, index, lang) -> dict:
        """A video just moved to the Trash: if it is open, the Player shows nothing of it; its moments leave the list."""
        same = {component: gr.update() for component in self.listed}
        if not gone or not isinstance(results, list) or not any(r.get("video_id") == gone for r in results):
            return same
        opened = results[position(index, results)]
        kept = [r for r in results if r["video_id"] != gone]
        if opened["video_id"] != gone:
            at = kept.index(opened)
            return {**same, self.shell.results: kept, self.shell.current: at, **self.stepping(at, kept, lang)}
        blank = {k: v for k, v in signed_out(self.tab, lang).items() if k in self.listed}
        return {**same, **blank, self.shell.results: [], self.shell.current: 0, self.shell.asked: ""}

    def clicked(self, token, found, found_for, lang, evt: gr.EventData):
        """A Search card: the moment it names (its video and start), in the list it was shown in; the Player's list
        becomes that list."""
        index = same_moment(found, event_value(evt, "video"), event_value(evt, "start"))
        if index is None:
            raise BadInput("moment_gone", "This result is no longer listed; search again.")
        played = self.play(token, found, index, found_for, lang)
        return {**played, self.shell.results: found, self.shell.asked: found_for}

    def from_library(self, token, lang, evt: gr.EventData):
        """A Library card: its video from the start."""
        video_id = event_value(evt, "video")
        if not isinstance(video_id, str):
            raise BadInput("no_video", "Pick a video first.")
        result = shared_moment(service.moment(token, video_id, 0.0), 0.0)
        return {**self.play(token, [result], 0, "", lang), self.shell.results: [result], self.shell.asked: ""}

    def step(self, token, results, index, asked, by, lang):
        return self.play(token, results, position(index, results) + by, asked, lang)

    def find_within(self, token, results, index, words, lang):
        """Search the open moment's video only; play its first match."""
        if not results:
            raise BadInput("nothing_open", "Open a moment first; then search in its video.")
        video_id = results[position(index, results)]["video_id"]
        found = service.search(token, words, 100, video_id)["moments"]
        if not found:
            raise BadInput("no_match", "Nothing in this video matches that; try other words.")
        return {**self.play(token, found, 0, words, lang), self.shell.results: found, self.shell.asked: words}

    def from_link(self, token, lang, request: gr.Request):
        """A share link (``/?moment=…``) opened by its owner: the Player at that second."""
        asked = dict(request.query_params) if request else {}
        if "moment" not in asked or not token:
            return {component: gr.update() for component in self.listed}
        found = service.open_shared(token, asked["moment"], asked.get("t", "0"))
        result = shared_moment(found, float(asked.get("t", "0")))
        return {**self.play(token, [result], 0, "", lang), self.shell.results: [result], self.shell.asked: ""}

    def make_public(self, token, results, index, on, published, lang):
        """Turn the open clip's public link on or off."""
        if not results:
            raise BadInput("nothing_open", "Open a moment first.")
        result = results[position(index, results)]
        try:
            if on:
                published = service.publish_clip(
                    token, result["video_id"], result.get("play_s", result["scene_start_s"]), result["end_s"]
                )
            elif published:
                service.unpublish_clip(token, published["clip_id"])
                gr.Info(say(lang, "link_turned_off"))
                published = None
        except BadInput as refused:  # the box goes back to what is true
            gr.Warning(error(lang, refused))
        return self.public_shown(published, lang)

    def pick_face(self, faces, lang, evt: gr.SelectData):
        face = chosen(faces, evt)
        return {
            self.tab.picked_face: face["face_id"],
            self.tab.face_name: gr.update(value=face["name"] or "", interactive=True),
        }

    def name_face(self, token, results, index, face_id, name, lang):
        if face_id is None:
            raise BadInput("no_face", "Pick a face first.")
        person = service.name_face(token, face_id, name)
        gr.Info(say(lang, "seen_in", name=person["name"], n=person["scenes"]))
        return self.people_in(open_moment(token, results[position(index, results)]) if results else None, lang)


def wire(shell: Shell, tab: PlayerTab, moments: gr.HTML, videos: gr.HTML) -> None:
    """``moments``: the Search tab's cards; ``videos``: the Library's. A click on one plays it here."""
    do = Handlers(shell, tab)
    at, lang, opened, listed = [shell.token, shell.results, shell.current], shell.lang, do.opened, do.listed
    lang.change(friendly(do.from_link), [shell.token, lang], listed, api_visibility="private")
    moments.click(
        friendly(do.clicked),
        [shell.token, shell.found, shell.found_for, lang],
        listed,
        api_visibility="private",
        show_progress_on=[tab.player],
    )
    videos.submit(
        friendly(do.from_library), [shell.token, lang], listed, api_visibility="private", show_progress_on=[tab.player]
    )
    tab.previous.click(
        friendly(do.step),
        [*at, shell.asked, gr.State(-1), lang],
        opened,
        api_visibility="private",
        show_progress_on=[tab.player],
    )
    tab.next.click(
        friendly(do.step),
        [*at, shell.asked, gr.State(1), lang],
        opened,
        api_visibility="private",
        show_progress_on=[tab.player],
    )
    for trigger in (tab.within.submit, tab.find_within.click):
        trigger(
            friendly(do.find_within),
            [*at, tab.within, lang],
            listed,
            api_visibility="private",
            show_progress_on=[tab.player],
        )
    shell.gone.change(do.forget, [shell.gone, *at[1:], lang], listed, api_visibility="private")
    tab.public.input(
        friendly(do.make_public), [*at, tab.public, tab.published, lang], do.public, api_visibility="private"
    )
    tab.faces_here.select(
        friendly(do.pick_face), [tab.faces, lang], [tab.picked_face, tab.face_name], api_visibility="private"
    )
    tab.name_face.click(
        friendly(do.name_face), [*at, tab.picked_face, tab.face_name, lang], do.faces, api_visibility="private"
    )
