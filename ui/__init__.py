"""The Gradio UI, one module per tab; each builds its components (``layout``) and wires its listeners (``wire``).

The UI calls :mod:`heimdex.app.service` only; nothing in ``heimdex`` imports it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import gradio as gr
from gradio.i18n import I18nData

from ui import account, api, cards, library, people, player, search
from ui.common import Shell, who_acts
from ui.text import HEAD as LANGUAGE_HEAD
from ui.text import say, t

I18N_MARK = "__i18n__"  # how Gradio keeps a translation key in a component's words

# Gradio scopes the app's CSS to its content; the page's frame (its padding, the footer) is styled here. Two of
# Gradio's own attributes mislead screen readers: an empty gallery's label on a box with no role, and the upload
# box's English label over its translated text; they are mended as they appear.
FRAME = """<style>
footer, footer a, footer button, footer span {color: #4b5563 !important}
@media (max-width: 640px) {
  .gradio-container .main.app {padding: 0 8px 72px !important}
  html {scroll-padding-bottom: 72px}  /* what is scrolled to, or focused, is never left under the tab bar */
}
</style>
<script>
new MutationObserver(() => {
  document.querySelectorAll('div.empty[aria-label]:not([role])').forEach((e) => e.setAttribute('role', 'img'));
  document.querySelectorAll('.upload-container[aria-label]').forEach((e) => e.removeAttribute('aria-label'));
}).observe(document.documentElement, {subtree: true, childList: true, attributes: true,
  attributeFilter: ['aria-label', 'role']});
</script>"""
HEAD = LANGUAGE_HEAD + account.AUTOFILL + FRAME  # what the page runs and styles before Gradio starts

# Colours meet WCAG AA (4.5:1) on the theme's white; the tab bar sits at the bottom of a phone's screen.
CSS = (
    """
.gradio-container {max-width: 1180px !important; width: 100% !important; margin: auto}
#brand {align-items: baseline; gap: 12px}
#brand h1 {margin: 0}
#brand p {color: #4b5563 !important}
.player video {width: 100%; border-radius: 12px; background: #000; max-height: 520px}
.why span {display: inline-block; margin: 2px 6px 2px 0; padding: 1px 8px; border-radius: 10px; background: var(--color-accent-soft); font-size: .85em}
.moment:focus-visible, .video .play:focus-visible, .transcript li:focus-visible, .timeline .mark:focus-visible,
.video .menu summary:focus-visible {outline: 3px solid #4338ca !important; outline-offset: 2px}
.sr-only {position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap}
#main-tabs .tab-container > button[aria-controls=""] {display: none}  /* Gradio's wrap mode repeats the pinned tabs */
@media (max-width: 640px) {
  #player {padding: 0 !important}
  #brand {display: none}
  #main-tabs > .tab-wrapper {position: fixed; left: 0; right: 0; bottom: 0; z-index: 100; margin: 0;
    background: var(--background-fill-primary); border-top: 1px solid var(--border-color-primary);
    padding-bottom: env(safe-area-inset-bottom)}
  #main-tabs > .tab-wrapper .tab-container {flex-wrap: nowrap !important; height: 56px !important; background: none !important}
  #main-tabs > .tab-wrapper .tab-container button {flex: 1 1 0; height: 56px !important; padding: 0 2px; font-size: .8em;
    justify-content: center}
}
"""
    + cards.CSS
    + account.CSS
    + library.CSS
    + people.CSS
)


def build(search_concurrency: int) -> gr.Blocks:
    """The whole app: the tabs, their listeners, and the API (``search_concurrency``: searches answered at once).

    Search comes first (on a phone its tab bar sits at the bottom of the screen); a visitor not signed in is shown
    Account, and a sign-in brings them to Search."""
    with gr.Blocks(title="Heimdex") as demo:
        token = gr.BrowserState("", storage_key="heimdex-token")
        renew = gr.Textbox("", visible="hidden", elem_id="renew")
        lang = gr.Textbox("", visible="hidden", elem_id="page-language")
        offset = gr.Number(0, visible="hidden", elem_id="utc-offset")
        with gr.Row(elem_id="brand"):
            gr.Markdown("# Heimdex")
            gr.Markdown(t("tagline"))
        shown = gr.Markdown("", elem_id="who")
        with gr.Tabs(selected="search", overflow_behavior="wrap", elem_id="main-tabs") as tabs:
            shell = Shell(
                token=token,
                renew=renew,
                seen=gr.State(None),  # None until the page has opened (``landing``)
                who=shown,
                tabs=tabs,
                found=gr.State([]),
                found_for=gr.State(""),
                results=gr.State([]),
                current=gr.State(0),
                asked=gr.State(""),
                gone=gr.State(""),
                lang=lang,
                offset=offset,
            )
            search_tab = search.layout()
            player_tab = player.layout()
            library_tab = library.layout()
            upload_tab = library.upload_layout()
            people_tab = people.layout()
            account_tab = account.layout()
        api.serve(
            search_concurrency
        )  # first: the API keeps its names (/register, /login, ...), the UI's own events take others
        account.wire(shell, account_tab, demo)
        library.wire(shell, library_tab, upload_tab, search_tab.in_video)
        then_search = search.wire(shell, search_tab, search_concurrency)
        player.wire(shell, player_tab, search_tab.moments, library_tab.grid)
        people.wire(shell, people_tab, search_tab.with_person, search_tab.query, then_search)
        tabs_ = [(player, player_tab), (search, search_tab), (people, people_tab), (account, account_tab)]
        forget_on_change(shell, [functools.partial(module.signed_out, tab) for module, tab in tabs_])
        named_in(lang, [tab for tab in tabs.children if isinstance(tab, gr.Tab)])
        buttons_in(lang, list(demo.blocks.values()))
    return demo


def _key(words: object) -> str | None:
    """The translation key a component's words were given as (``t("sign_in")``), if they were."""
    if isinstance(words, I18nData):
        return words.key
    if isinstance(words, str) and words.startswith(I18N_MARK):
        return json.loads(words.removeprefix(I18N_MARK)).get("key")
    return None


def buttons_in(lang: gr.Textbox, blocks: list) -> None:
    """When the page's language changes, the buttons and the folding sections say it too (Gradio's buttons keep the
    words the page loaded with). Those whose words the server sets are left alone: the Library's confirm button
    (the question's words) and the Trash (its count)."""
    own = {"confirm", "trash-box"}
    buttons = [(b, k) for b in blocks if isinstance(b, gr.Button) and (k := _key(b.value)) and b.elem_id not in own]
    folds = [(a, k) for a in blocks if isinstance(a, gr.Accordion) and (k := _key(a.label)) and a.elem_id not in own]

    def said(lang):
        return [gr.update(value=say(lang, k)) for _, k in buttons] + [gr.update(label=say(lang, k)) for _, k in folds]

    targets = [b for b, _ in buttons] + [a for a, _ in folds]
    lang.change(said, [lang], targets, api_visibility="private", show_progress="hidden")


def named_in(lang: gr.Textbox, tabs: list[gr.Tab]) -> None:
    """When the page's language changes, the tab bar says it too (Gradio's tab buttons keep the words they began
    with; every other label follows its language by itself)."""

    def named(lang):
        return [gr.update(label=say(lang, f"tab_{tab.id}")) for tab in tabs]

    lang.change(named, [lang], tabs, api_visibility="private", show_progress="hidden")


def forget_on_change(shell: Shell, blanks: list[Callable[[str | None], dict]]) -> None:
    """Whenever the session changes (signed out, another account, a session found gone), every tab drops what it
    showed: the Player's video, the cards, galleries, lists and choices of the last user. The Library lists anew.
    Signed out, the page shows Account; signed in, Search. The page's opening is Account's ``landing``: the token
    the browser kept, which comes before it, is only noted here (switching tabs could overturn the one it chose)."""

    def cleared(session: str, lang: str | None, seen: str | None) -> dict:
        now = who_acts(session)
        if seen is None:  # the page is opening: what it shows is this session, nothing to clear
            return {shell.seen: now}
        if now and now == seen:  # the same session, its token renewed: nothing changes on screen
            return {shell.seen: seen}
        shown: dict = {
            shell.seen: now,
            shell.found: [],
            shell.found_for: "",
            shell.results: [],
            shell.current: 0,
            shell.asked: "",
            shell.tabs: gr.update(selected="search" if session else "account"),
        }
        for blank in blanks:
            shown.update(blank(lang))
        return shown

    shell.token.change(
        cleared,
        [shell.token, shell.lang, shell.seen],
        list(cleared("", None, "")),
        api_visibility="private",
        show_progress="hidden",
    )
