"""The People tab: named people and suggestions, their faces, "is this also them?", and searching for them."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from heimdex.app import service
from heimdex.errors import BadInput
from ui.common import Shell, chosen, friendly, picture
from ui.text import say, t


@dataclass
class PeopleTab:
    tab: gr.Tab
    listing: gr.State  # what service.people returned
    chosen: gr.State  # the person picked
    note: gr.Markdown
    people: gr.Gallery
    suggested: gr.Gallery
    new_name: gr.Textbox
    photos: gr.File
    add: gr.Button
    title: gr.Markdown
    faces: gr.Gallery
    likely: gr.Gallery
    likely_faces: gr.State
    name: gr.Textbox
    save_name: gr.Button
    merge_with: gr.Dropdown
    merge: gr.Button
    scenes: gr.Button
    split: gr.Button
    forget: gr.Button


def signed_out(tab: PeopleTab, lang: str | None = None) -> dict:
    """Nothing of the last user left in People: the galleries, the person picked, their names."""
    return {
        tab.listing: {"people": [], "suggested": []},
        tab.chosen: None,
        tab.note: "",
        tab.people: [],
        tab.suggested: [],
        tab.new_name: "",
        tab.photos: None,
        tab.title: "",
        tab.faces: [],
        tab.likely: gr.update(value=[], visible=False),
        tab.likely_faces: [],
        tab.name: "",
        tab.merge_with: gr.update(choices=[], value=None),
    }


# Names sit under the faces, whole (wrapped), never over them; the gallery's label sits above the first face.
CSS = """
.faces .grid-wrap {padding-top: 2.2em !important}
.faces .thumbnail-item {aspect-ratio: auto !important; height: auto !important; display: flex; flex-direction: column}
.faces .thumbnail-item img {aspect-ratio: 1 / 1; width: 100%; height: auto !important; object-fit: cover}
.faces .caption-label {position: static !important; max-width: none !important; white-space: normal !important;
  overflow-wrap: anywhere; border: 0 !important; border-radius: 0 !important; text-align: center !important;
  background: var(--background-fill-primary) !important; color: var(--body-text-color) !important; opacity: 1 !important}
"""


def faces_gallery(label: Any, elem_id: str, columns: int = 8, height: int = 200, visible: bool = True) -> gr.Gallery:
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
        elem_classes=["faces"],
    )


def layout() -> PeopleTab:
    with gr.Tab(t("tab_people"), id="people") as tab:
        listing = gr.State({"people": [], "suggested": []})
        chosen = gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
                note = gr.Markdown()
                people = faces_gallery(t("your_people"), "people", columns=6, height=230)
                suggested = faces_gallery(t("suggested"), "suggested", 6, 230)
            with gr.Column(scale=1):
                gr.Markdown(t("add_person"))
                new_name = gr.Textbox(label=t("name"), elem_id="person-new")
                photos = gr.File(
                    label=t("photos"),
                    file_count="multiple",
                    file_types=["image"],
                    type="filepath",
                    elem_id="person-photos",
                )
                add = gr.Button(t("add_person_button"), variant="primary")
        title = gr.Markdown("", elem_id="person-title")
        faces = faces_gallery(t("their_faces"), "person-faces")
        likely = faces_gallery(t("is_this_them"), "person-likely", visible=False)
        likely_faces = gr.State([])
        with gr.Row(equal_height=True):
            name = gr.Textbox(label=t("name"), scale=2, elem_id="person-name")
            save_name = gr.Button(t("save_name"), scale=1)
            merge_with = gr.Dropdown(label=t("merge_with"), choices=[], scale=2)
            merge = gr.Button(t("merge"), scale=1)
        with gr.Row():
            scenes = gr.Button(t("show_scenes"), variant="primary")
            split = gr.Button(t("split"))
            forget = gr.Button(t("forget"), variant="stop")
    return PeopleTab(
        tab=tab,
        listing=listing,
        chosen=chosen,
        note=note,
        people=people,
        suggested=suggested,
        new_name=new_name,
        photos=photos,
        add=add,
        title=title,
        faces=faces,
        likely=likely,
        likely_faces=likely_faces,
        name=name,
        save_name=save_name,
        merge_with=merge_with,
        merge=merge,
        scenes=scenes,
        split=split,
        forget=forget,
    )


def who_label(person: dict, lang: str | None) -> str:
    """'Mina · seen in 4 scenes of 2 videos' (someone unnamed: 'Someone')."""
    seen = say(lang, "seen_count", n=person["scenes"], m=person["videos"])
    return f"{person['name'] or say(lang, 'someone')} · {seen}"


def face_label(face: dict, lang: str | None) -> str:
    """A face's caption: 'Photo' for an enrolled photo, else where it was seen ('Interview · 12.5 s')."""
    if face.get("reference") and not face["title"]:
        return say(lang, "photo")
    return f"{face['title']} · {face['t'] or 0:.1f} s"


def gallery(items: list[dict], pictures: list[str | None], label: Callable[[dict], str]) -> list[tuple[object, str]]:
    """Pictures with their captions for a gallery (a placeholder where a picture is missing)."""
    return [(picture(found, (160, 160)), label(item)) for item, found in zip(items, pictures)]


def find_person(listing: dict, person_id: object) -> dict | None:
    """The person ``person_id`` of a listing (named or suggested); ``None`` if there is none."""
    return next((p for p in listing["people"] + listing["suggested"] if p["person_id"] == person_id), None)


def name_choices(listing: dict, lang: str | None) -> tuple[list[tuple[str, object]], list[tuple[str, str]]]:
    """The choices to merge with (everyone, by label) and to search with (the named, by name; first 'anyone')."""
    everybody = listing["people"] + listing["suggested"]
    merge = [(who_label(p, lang), p["person_id"]) for p in everybody]
    search = [(say(lang, "anyone"), "")] + [(p["name"], p["name"]) for p in listing["people"]]
    return merge, search


def heading(person: dict, lang: str | None) -> str:
    """The picked person's heading: their name (escaped) and where they were seen."""
    title = html.escape(person["name"] or say(lang, "someone_unnamed"))
    return f"### {title}\n{html.escape(who_label(person, lang))}"


class Handlers:
    """What the People tab does when it is used; each handler answers the components it changes."""

    def __init__(self, tab: PeopleTab, with_person: gr.Dropdown):
        self.tab, self.with_person = tab, with_person
        self.view = [tab.people, tab.suggested, tab.listing, tab.merge_with, with_person, tab.note, tab.title]
        self.shown = [tab.chosen, tab.title, tab.faces, tab.name, tab.likely, tab.likely_faces]

    def everyone(self, session, lang) -> dict:
        """The galleries of people and suggestions, the listing behind them, and the name choices elsewhere."""
        listing = service.people(session)
        shown = {
            kind: gallery(
                listing[kind],
                service.face_pictures(session, [p["cover_face_id"] for p in listing[kind]]),
                lambda person: who_label(person, lang),
            )
            for kind in ("people", "suggested")
        }
        merge, search = name_choices(listing, lang)
        return {
            self.tab.people: shown["people"],
            self.tab.suggested: shown["suggested"],
            self.tab.listing: listing,
            self.tab.merge_with: gr.update(choices=merge, value=None),
            self.with_person: gr.update(choices=search),
            self.tab.note: say(lang, "people_note", n=len(listing["people"]), m=len(listing["suggested"])),
        }

    def nobody(self, note: str, lang) -> dict:
        return {
            self.tab.people: [],
            self.tab.suggested: [],
            self.tab.listing: {"people": [], "suggested": []},
            self.tab.merge_with: gr.update(choices=[]),
            self.with_person: gr.update(choices=[(say(lang, "anyone"), "")]),
            self.tab.note: note,
        }

    def panel(self, session, person_id, listing, lang) -> dict:
        """The picked person's heading, faces, name box and "is this also them?" faces."""
        tab, person = self.tab, find_person(listing, person_id)
        if person is None:
            nothing = {tab.chosen: None, tab.title: say(lang, "pick_person"), tab.faces: [], tab.name: ""}
            return {**nothing, tab.likely: gr.update(value=[], visible=False), tab.likely_faces: []}
        faces = service.person_faces(session, person_id)
        shown = gallery(
            faces, service.face_pictures(session, [f["face_id"] for f in faces]), lambda f: face_label(f, lang)
        )
        likely = service.likely_faces(session, person_id) if person["name"] else []
        offered = gallery(
            likely, service.face_pictures(session, [f["face_id"] for f in likely]), lambda f: face_label(f, lang)
        )
        question = say(lang, "is_this_also", name=person["name"]) if likely else ""
        return {
            tab.chosen: person_id,
            tab.title: heading(person, lang),
            tab.faces: shown,
            tab.name: person["name"] or "",
            tab.likely: gr.update(value=offered, visible=bool(offered), label=question),
            tab.likely_faces: likely,
        }

    def all_of_it(self, session, person_id, lang) -> dict:
        view = self.everyone(session, lang)
        return {**view, **self.panel(session, person_id, view[self.tab.listing], lang)}

    def show(self, session, lang):
        if not session:
            return self.nobody(say(lang, "sign_in_people"), lang)
        try:
            return {**self.everyone(session, lang), self.tab.title: say(lang, "pick_person")}
        except BadInput:
            return self.nobody(say(lang, "session_ended_short"), lang)

    def pick(self, session, listing, kind, lang, evt: gr.SelectData):
        picked = chosen(listing.get(kind) if isinstance(listing, dict) else None, evt)
        return self.panel(session, picked["person_id"], listing, lang)

    def confirm_likely(self, session, person_id, name, likely, lang, evt: gr.SelectData):
        """'Is this also Mina?' — yes: the face becomes one of hers."""
        service.name_face(session, chosen(likely, evt)["face_id"], name)
        gr.Info(say(lang, "added_to", name=name))
        return self.all_of_it(session, person_id, lang)

    def add(self, session, name, photos, lang):
        if not photos:
            raise BadInput("no_photo", "Add at least one photo of the person.")
        person = service.add_person(session, name, photos)
        gr.Info(say(lang, "seen_in", name=person["name"], n=person["scenes"]))
        return {**self.all_of_it(session, person["person_id"], lang), self.tab.new_name: "", self.tab.photos: None}

    def act(self, session, person_id, action, name, other, lang):
        """Name, merge, split or forget the picked person."""
        if person_id is None:
            raise BadInput("no_person", "Pick a person first.")
        if action == "name":
            person_id = service.rename_person(session, person_id, name)["person_id"]
        elif action == "merge":
            if other in (None, ""):
                raise BadInput("no_person", "Pick the person to merge with.")
            person_id = service.merge_people(session, person_id, other)["person_id"]
        elif action == "split":
            _, new = service.split_person(session, person_id)
            gr.Info(say(lang, "split_done", n=new["scenes"]))
        else:
            service.delete_person(session, person_id)
            person_id = None
        return self.all_of_it(session, person_id, lang)


def wire(
    shell: Shell,
    tab: PeopleTab,
    with_person: gr.Dropdown,
    query: gr.Textbox,
    then_search: Callable[[Any], Any],
) -> None:
    """``with_person`` and ``query``: the Search tab's, which "Show their scenes" fills before ``then_search``."""
    do, token, lang = Handlers(tab, with_person), shell.token, shell.lang
    view, shown = do.view, do.shown
    lang.change(do.show, [token, lang], view, api_visibility="private")
    tab.tab.select(do.show, [token, lang], view, api_visibility="private")
    for gallery_, kind in ((tab.people, "people"), (tab.suggested, "suggested")):
        gallery_.select(friendly(do.pick), [token, tab.listing, gr.State(kind), lang], shown, api_visibility="private")
    added = [*view, *shown, tab.new_name, tab.photos]
    tab.add.click(friendly(do.add), [token, tab.new_name, tab.photos, lang], added, api_visibility="private")
    for button, action in ((tab.save_name, "name"), (tab.merge, "merge"), (tab.split, "split"), (tab.forget, "forget")):
        asked = [token, tab.chosen, gr.State(action), tab.name, tab.merge_with, lang]
        button.click(friendly(do.act), asked, view + shown, api_visibility="private")
    picked = [token, tab.chosen, tab.name, tab.likely_faces, lang]
    tab.likely.select(friendly(do.confirm_likely), picked, view + shown, api_visibility="private")
    then_search(
        tab.scenes.click(
            lambda name: {with_person: gr.update(value=name), query: "", shell.tabs: gr.update(selected="search")},
            [tab.name],
            [with_person, query, shell.tabs],
            api_visibility="private",
        )
    )
