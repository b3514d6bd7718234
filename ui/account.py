"""The Account tab: sign in or register, profile, password, public links, deleting the account, signing out."""

from __future__ import annotations

import html
from dataclasses import dataclass

import gradio as gr

from heimdex.app import service
from heimdex.errors import BadInput
from ui.cards import clock
from ui.common import Shell, client, friendly, who
from ui.text import CHOOSE_LANGUAGE_JS, PAGE_LANGUAGE_JS, say, t

# The session token also travels as a same-site cookie, so the browser's uploads to Gradio's
# upload route carry it (heimdex.app.web.FileGate lets only signed-in requests upload).
SESSION_COOKIE_JS = """(token) => {
  document.cookie = "heimdex_session=" + encodeURIComponent(token || "") + "; path=/; SameSite=Strict"
                    + (token ? "" : "; max-age=0");
  return [];
}"""


@dataclass
class AccountTab:
    email: gr.Textbox
    password: gr.Textbox
    name: gr.Textbox
    login: gr.Button
    register: gr.Button
    new_name: gr.Textbox
    rename: gr.Button
    current_pw: gr.Textbox
    new_pw: gr.Textbox
    change: gr.Button
    gone_pw: gr.Textbox
    delete_me: gr.Button
    logout: gr.Button
    language: gr.Radio
    links_box: gr.Accordion
    links: gr.HTML  # the public links that are on
    link_pick: gr.Dropdown
    turn_off: gr.Button


def layout() -> AccountTab:
    with gr.Tab(t("tab_account"), id="account"):
        with gr.Row():
            with gr.Column():
                email = gr.Textbox(label=t("email"))
                password = gr.Textbox(label=t("password"), type="password")
                name = gr.Textbox(label=t("display_name_new"))
                with gr.Row():
                    login = gr.Button(t("sign_in"), variant="primary")
                    register = gr.Button(t("register"))
                gr.Markdown(t("no_reset"))
            with gr.Column():
                with gr.Accordion(t("profile"), open=False):
                    new_name = gr.Textbox(label=t("display_name"))
                    rename = gr.Button(t("save_name"))
                with gr.Accordion(t("change_password"), open=False):
                    current_pw = gr.Textbox(label=t("current_password"), type="password")
                    new_pw = gr.Textbox(label=t("new_password"), type="password")
                    change = gr.Button(t("change_password"))
                with gr.Accordion(t("public_links"), open=False) as links_box:
                    links = gr.HTML("", elem_id="public-links")
                    link_pick = gr.Dropdown([], label=t("link_to_turn_off"), elem_id="public-link-pick")
                    turn_off = gr.Button(t("turn_off"))
                with gr.Accordion(t("delete_account"), open=False):
                    gone_pw = gr.Textbox(label=t("password"), type="password")
                    delete_me = gr.Button(t("delete_everything"), variant="stop")
                logout = gr.Button(t("sign_out"))
                language = gr.Radio([("English", "en"), ("한국어", "ko")], label=t("language"), elem_id="ui-language")
    return AccountTab(
        email=email,
        password=password,
        name=name,
        login=login,
        register=register,
        new_name=new_name,
        rename=rename,
        current_pw=current_pw,
        new_pw=new_pw,
        change=change,
        gone_pw=gone_pw,
        delete_me=delete_me,
        logout=logout,
        language=language,
        links_box=links_box,
        links=links,
        link_pick=link_pick,
        turn_off=turn_off,
    )


def signed_out(tab: AccountTab, lang: str | None = None) -> dict:
    """Nothing of the last user left in Account: the public links listed, the password boxes."""
    return {
        tab.links: "",
        tab.link_pick: gr.update(choices=[], value=None),
        tab.current_pw: "",
        tab.new_pw: "",
        tab.gone_pw: "",
        tab.new_name: "",
    }


def links_html(clips: list[dict], lang: str | None) -> str:
    """The public links that are on: what each shows, and the link."""
    if not clips:
        return f"<p>{say(lang, 'no_public_links')}</p>"
    rows = "".join(
        f"<li>{html.escape(c['title'])} · {clock(c['start_s'])}–{clock(c['end_s'])}:"
        f" <a href='{html.escape(c['url'])}' target='_blank' rel='noopener'>{html.escape(c['url'])}</a></li>"
        for c in clips
    )
    return f"<p>{say(lang, 'public_links_note')}</p><ul>{rows}</ul>"


def wire(shell: Shell, tab: AccountTab, demo: gr.Blocks) -> None:
    token, shown, lang = shell.token, shell.who, shell.lang

    @friendly
    def register(email, password, name, lang, request: gr.Request):
        new = service.register(email, password, name or "", client=client(request))
        return {token: new, shown: who(new, lang), tab.password: ""}

    @friendly
    def login(email, password, lang, request: gr.Request):
        new = service.login(email, password, client=client(request))
        return {token: new, shown: who(new, lang), tab.password: ""}

    @friendly
    def logout(session, lang):
        if session:
            service.logout(session)
        return {token: "", shown: who("", lang)}

    @friendly
    def change_password(session, current, new, lang):
        session = service.change_password(session, current, new)
        gr.Info(say(lang, "password_changed"))
        return {token: session, tab.current_pw: "", tab.new_pw: ""}

    @friendly
    def delete_account(session, password, lang):
        service.delete_account(session, password)
        gr.Info(say(lang, "account_deleted"))
        return {token: "", shown: who("", lang)}

    @friendly
    def public_links(session, lang):
        clips = service.public_clips(session) if session else []
        choices = [(f"{c['title']} · {clock(c['start_s'])}–{clock(c['end_s'])}", c["clip_id"]) for c in clips]
        return {
            tab.links: links_html(clips, lang),
            tab.link_pick: gr.update(choices=choices, value=None, label=say(lang, "link_to_turn_off")),
        }

    @friendly
    def turn_off(session, clip_id, lang):
        if not clip_id:
            raise BadInput("no_link", "Pick a link first.")
        service.unpublish_clip(session, clip_id)
        gr.Info(say(lang, "link_turned_off"))
        return public_links(session, lang)

    @friendly
    def rename(session, display_name, lang):
        service.rename(session, display_name)
        return {shown: who(session, lang)}

    token.change(None, [token], None, js=SESSION_COOKIE_JS)
    demo.load(None, [token], None, js=SESSION_COOKIE_JS)
    demo.load(
        None, None, [lang, tab.language], js=f"() => {{ const l = ({PAGE_LANGUAGE_JS})(); return [l, l]; }}"
    ).then(who, [token, lang], [shown], api_visibility="private")
    tab.language.input(None, [tab.language], None, js=CHOOSE_LANGUAGE_JS)
    signed = [token, shown, tab.password]
    tab.login.click(login, [tab.email, tab.password, lang], signed, api_visibility="private")
    tab.register.click(register, [tab.email, tab.password, tab.name, lang], signed, api_visibility="private")
    tab.logout.click(logout, [token, lang], [token, shown], api_visibility="private")
    tab.rename.click(rename, [token, tab.new_name, lang], [shown], api_visibility="private")
    tab.change.click(
        change_password,
        [token, tab.current_pw, tab.new_pw, lang],
        [token, tab.current_pw, tab.new_pw],
        api_visibility="private",
    )
    listing = [tab.links, tab.link_pick]
    tab.links_box.expand(public_links, [token, lang], listing, api_visibility="private")
    tab.turn_off.click(turn_off, [token, tab.link_pick, lang], listing, api_visibility="private")
    tab.delete_me.click(delete_account, [token, tab.gone_pw, lang], [token, shown], api_visibility="private")
