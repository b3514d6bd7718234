"""The Search tab: what the person remembers, a few filters, and the moments found as cards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from heimdex.app import service
from ui.cards import CLICKS_JS, cards, no_one_called, nothing_found, searched_for
from ui.common import Shell, friendly
from ui.text import say, t

PAGE = 24  # moments per page; "More moments" adds the next page


@dataclass
class SearchTab:
    query: gr.Textbox
    search: gr.Button
    in_video: gr.Dropdown
    channels: gr.CheckboxGroup
    since: gr.Dropdown
    with_person: gr.Dropdown
    found_note: gr.Markdown
    moments: gr.HTML  # the cards; a click on one says which (``index``)
    more: gr.Button
    pages: gr.State  # pages shown so far


def layout() -> SearchTab:
    with gr.Tab(t("tab_search"), id="search"):
        with gr.Row(equal_height=True):
            query = gr.Textbox(
                label=t("what_remember"),
                placeholder="ask not what your country · red car · 비상구",
                scale=4,
                min_width=200,
                elem_id="query",
                html_attributes=gr.InputHTMLAttributes(enterkeyhint="search", autocomplete="off"),
            )
            search = gr.Button(t("search"), variant="primary", scale=0, min_width=96, elem_id="search-button")
        with gr.Accordion(t("filters"), open=False, elem_id="filters"):
            with gr.Row():
                in_video = gr.Dropdown(label=t("in_video"), choices=[], scale=2, min_width=160)
                channels = gr.CheckboxGroup(
                    [(t("speech"), "transcript"), (t("screen_text"), "ocr"), (t("picture"), "visual")],
                    label=t("only_channels"),
                    scale=2,
                    min_width=160,
                )
                since = gr.Dropdown(
                    [(t("any_time"), 0), (t("last_7"), 7), (t("last_30"), 30), (t("last_year"), 365)],
                    value=0,
                    label=t("uploaded"),
                    scale=1,
                    min_width=120,
                )
                with_person = gr.Dropdown(
                    [(t("anyone"), "")], value="", label=t("with"), scale=1, min_width=120, elem_id="with-person"
                )
        found_note = gr.Markdown(elem_id="found-note")
        moments = gr.HTML("", js_on_load=CLICKS_JS, elem_id="moments")
        more = gr.Button(t("more_moments"), visible=False, elem_id="more")
        pages = gr.State(1)
    return SearchTab(
        query=query,
        search=search,
        in_video=in_video,
        channels=channels,
        since=since,
        with_person=with_person,
        found_note=found_note,
        moments=moments,
        more=more,
        pages=pages,
    )


def signed_out(tab: SearchTab, lang: str | None = None) -> dict:
    """Nothing of the last user left in Search: the cards, the words, the people to filter by (the videos to
    filter by are the Library's to list)."""
    return {
        tab.query: "",
        tab.moments: "",
        tab.found_note: "",
        tab.more: gr.update(visible=False),
        tab.pages: 1,
        tab.with_person: gr.update(choices=[(say(lang, "anyone"), "")], value=""),
    }


def wire(shell: Shell, tab: SearchTab, concurrency: int) -> Callable[[Any], Any]:
    """Wire the tab (``concurrency``: searches answered at once); return what runs a search after another event
    (``then_search(event)``)."""
    asked = [tab.query, tab.in_video, tab.channels, tab.since, tab.with_person]
    lang = shell.lang
    outputs = [tab.moments, shell.found, tab.found_note, tab.more, tab.pages, shell.found_for]

    def page_of(token, query, video_id, channels, since_days, person, page: int) -> dict:
        return service.search(
            token,
            query,
            PAGE,
            video_id or None,
            tuple(channels or ()),
            person=person or None,
            page=page,
            since_days=since_days or None,
        )

    def shown(query, channels, results: list[dict], found: dict, pages: int, lang) -> dict:
        korean, total = found["language"] == "ko", found["total"]
        unknown = tuple(found.get("unknown_names") or ())
        note = searched_for(found.get("corrected"), query or "", lang)
        if not results:
            return {
                tab.moments: note + nothing_found(query or "", tuple(channels or ()), korean, lang, unknown),
                shell.found: [],
                tab.found_note: "",
                tab.more: gr.update(visible=False),
                tab.pages: 1,
                shell.found_for: query or "",
            }
        more = total > len(results)
        return {
            tab.moments: note + no_one_called(unknown, lang) + cards(results, [m["picture"] for m in results], lang),
            shell.found: results,
            tab.found_note: say(lang, "moments_found", n=str(total)),
            tab.more: gr.update(visible=more),
            tab.pages: pages,
            shell.found_for: query or "",
        }

    @friendly
    def find(token, query, video_id, channels, since_days, person, lang):
        found = page_of(token, query, video_id, channels, since_days, person, 1)
        return shown(query, channels, found["moments"], found, 1, lang)

    @friendly
    def more(token, query, video_id, channels, since_days, person, pages, results, lang):
        pages = int(pages) + 1
        found = page_of(token, query, video_id, channels, since_days, person, pages)
        moments = list(results or []) + found["moments"]
        return shown(query, channels, moments, found, pages, lang)

    for trigger in (tab.query.submit, tab.search.click):
        trigger(
            find,
            [shell.token, *asked, lang],
            outputs,
            api_visibility="private",
            concurrency_limit=concurrency,
            concurrency_id="search",
        )
    tab.more.click(
        more,
        [shell.token, *asked, tab.pages, shell.found, lang],
        outputs,
        api_visibility="private",
        concurrency_limit=concurrency,
        concurrency_id="search",
    )

    @friendly
    def again(token, words, video_id, channels, since_days, person, found, lang):
        """The language changed: the cards shown, found again for the same words, said in it."""
        if not found or not words:
            return {component: gr.update() for component in outputs}
        return find(token, words, video_id, channels, since_days, person, lang)

    lang.change(
        again,
        [shell.token, shell.found_for, *asked[1:], shell.found, lang],
        outputs,
        api_visibility="private",
        show_progress="hidden",
    )

    def drop(gone, found, lang):
        """The moments of a video just moved to the Trash leave the page."""
        if not gone or not any(m["video_id"] == gone for m in found or []):
            return {tab.moments: gr.update(), shell.found: gr.update(), tab.found_note: gr.update()}
        kept = [m for m in found if m["video_id"] != gone]
        return {
            tab.moments: cards(kept, [m["picture"] for m in kept], lang) if kept else "",
            shell.found: kept,
            tab.found_note: say(lang, "moments_found", n=str(len(kept))) if kept else "",
        }

    shell.gone.change(
        drop, [shell.gone, shell.found, lang], [tab.moments, shell.found, tab.found_note], api_visibility="private"
    )

    def then_search(event):
        return event.then(find, [shell.token, *asked, lang], outputs, api_visibility="private")

    return then_search
