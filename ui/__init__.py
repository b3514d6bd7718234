"""The Gradio UI, one module per tab; each builds its components (``layout``) and wires its listeners (``wire``).

The UI calls :mod:`heimdex.app.service` only; nothing in ``heimdex`` imports it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import gradio as gr

from ui import account, api, cards, library, people, player, search
from ui.common import Shell
from ui.text import t

CSS = (
    """
.gradio-container {max-width: 1180px !important; width: 100% !important; margin: auto}
#brand h1 {margin-bottom: 0}
#brand p {color: var(--body-text-color-subdued); margin-top: .2rem}
.player video {width: 100%; border-radius: 12px; background: #000; max-height: 520px}
.why span {display: inline-block; margin: 2px 6px 2px 0; padding: 1px 8px; border-radius: 10px; background: var(--color-accent-soft); font-size: .85em}
"""
    + cards.CSS
    + library.CSS
    + "@media (max-width: 480px) {.gradio-container {padding: 0 6px !important} #brand h1 {font-size: 1.4em}}"
)


def build(search_concurrency: int) -> gr.Blocks:
    """The whole app: the tabs, their listeners, and the API (``search_concurrency``: searches answered at once)."""
    with gr.Blocks(title="Heimdex") as demo:
        token = gr.BrowserState("", storage_key="heimdex-token")
        results = gr.State([])
        current = gr.State(0)
        asked = gr.State("")
        lang = gr.Textbox("", visible="hidden", elem_id="page-language")
        with gr.Row(elem_id="brand"):
            gr.Markdown("# Heimdex")
            gr.Markdown(t("tagline"))
        shown = gr.Markdown("")
        with gr.Tabs() as tabs:
            shell = Shell(token=token, who=shown, tabs=tabs, results=results, current=current, asked=asked, lang=lang)
            account_tab = account.layout()
            library_tab = library.layout()
            search_tab = search.layout()
            player_tab = player.layout()
            people_tab = people.layout()
        api.serve(
            search_concurrency
        )  # first: the API keeps its names (/register, /login, ...), the UI's own events take others
        account.wire(shell, account_tab, demo)
        library.wire(shell, library_tab, search_tab.in_video)
        then_search = search.wire(shell, search_tab, search_concurrency)
        player.wire(shell, player_tab, search_tab.moments)
        people.wire(shell, people_tab, search_tab.with_person, search_tab.query, then_search)
        tabs = [(player, player_tab), (search, search_tab), (people, people_tab), (account, account_tab)]
        forget_on_change(shell, [functools.partial(module.signed_out, tab) for module, tab in tabs])
    return demo


def forget_on_change(shell: Shell, blanks: list[Callable[[str | None], dict]]) -> None:
    """Whenever the session changes (signed out, another account, a session found gone), every tab drops what it
    showed: the Player's video, the cards, galleries, lists and choices of the last user. The Library lists anew."""

    def cleared(lang: str | None) -> dict:
        shown: dict = {shell.results: [], shell.current: 0, shell.asked: ""}
        for blank in blanks:
            shown.update(blank(lang))
        return shown

    shell.token.change(cleared, [shell.lang], list(cleared(None)), api_visibility="private", show_progress="hidden")
