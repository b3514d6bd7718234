"""The Account tab: sign in or register, profile, password, public links, deleting the account, signing out."""

from __future__ import annotations

import html
from dataclasses import dataclass

import gradio as gr

from heimdex.app import service
from heimdex.errors import BadInput
from ui.cards import clock
from ui.common import Shell, client, friendly, me, who
from ui.text import CHOOSE_LANGUAGE_JS, PAGE_LANGUAGE_JS, say, t

# The session token also travels as a same-site cookie, so the browser's uploads to Gradio's
# upload route carry it (heimdex.app.web.FileGate lets only signed-in requests upload).
SESSION_COOKIE_JS = """(token) => {
  document.cookie = "heimdex_session=" + encodeURIComponent(token || "") + "; path=/; SameSite=Strict"
                    + (token ? "" : "; max-age=0");
  return [];
}"""


# Gradio's password box takes no autocomplete attribute: each says what it holds (its class), so password managers
# fill the current password and offer a new one where one is made.
AUTOFILL = """<script>
new MutationObserver(() => {
  for (const kind of ['current-password', 'new-password']) {
    document.querySelectorAll(`.autofill-${kind} input[type=password]:not([autocomplete="${kind}"])`)
      .forEach((box) => box.setAttribute('autocomplete', kind));
  }
}).observe(document.documentElement, {childList: true, subtree: true});
</script>"""


@dataclass
class AccountTab:
    signed_out: gr.Column  # the sign-in and registration form, shown only while nobody is signed in
    signed_in: gr.Column  # the profile and its settings, shown only while someone is
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
    delete_box: gr.Accordion
    will_go: gr.Markdown  # what deleting the account removes
    gone_pw: gr.Textbox
    delete_me: gr.Button
    logout: gr.Button
    language: gr.Radio
    links_box: gr.Accordion
    links: gr.HTML  # the public links that are on
    link_pick: gr.Dropdown
    turn_off: gr.Button


def secret(label: str, autocomplete: str, elem_id: str | None = None) -> gr.Textbox:
    """A password box that password managers fill correctly (``current-password`` or ``new-password``)."""
    return gr.Textbox(label=t(label), type="password", elem_id=elem_id, elem_classes=[f"autofill-{autocomplete}"])


def layout() -> AccountTab:
    with gr.Tab(t("tab_account"), id="account"):
        with gr.Column(elem_id="sign-in") as signed_out:
            email = gr.Textbox(
                label=t("email"),
                type="email",
                elem_id="email",
                html_attributes=gr.InputHTMLAttributes(autocomplete="email", autocapitalize="off", spellcheck=False),
            )
            password = secret("password", "current-password", "password")
            name = gr.Textbox(
                label=t("display_name_new"),
                elem_id="new-display-name",
                html_attributes=gr.InputHTMLAttributes(autocomplete="nickname"),
            )
            with gr.Row():
                login = gr.Button(t("sign_in"), variant="primary")
                register = gr.Button(t("register"))
        with gr.Column(visible=False, elem_id="profile") as signed_in:
            with gr.Accordion(t("profile"), open=False):
                new_name = gr.Textbox(
                    label=t("display_name"), html_attributes=gr.InputHTMLAttributes(autocomplete="nickname")
                )
                rename = gr.Button(t("save_name"))
            with gr.Accordion(t("change_password"), open=False):
                current_pw = secret("current_password", "current-password")
                new_pw = secret("new_password", "new-password")
                change = gr.Button(t("change_password"))
            with gr.Accordion(t("public_links"), open=False) as links_box:
                links = gr.HTML("", elem_id="public-links")
                link_pick = gr.Dropdown([], label=t("link_to_turn_off"), elem_id="public-link-pick")
                turn_off = gr.Button(t("turn_off"))
            with gr.Accordion(t("delete_account"), open=False, elem_id="delete-account") as delete_box:
                will_go = gr.Markdown("", elem_id="will-go")
                gone_pw = secret("password_to_delete", "current-password", "delete-password")
                delete_me = gr.Button(t("delete_everything"), variant="stop")
            logout = gr.Button(t("sign_out"), elem_id="sign-out")
        language = gr.Radio([("English", "en"), ("한국어", "ko")], label=t("language"), elem_id="ui-language")
    return AccountTab(
        signed_out=signed_out,
        signed_in=signed_in,
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
        delete_box=delete_box,
        will_go=will_go,
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
        tab.will_go: "",
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
        return {token: "", shown: who("", lang), tab.gone_pw: ""}

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

    def panel(session, lang) -> dict:
        """Either the sign-in form or the profile, as the session is; the line saying who is signed in."""
        profile = me(session)
        return {
            shown: who(session, lang, profile),
            tab.signed_out: gr.update(visible=profile is None),
            tab.signed_in: gr.update(visible=profile is not None),
        }

    def landing(session, lang) -> dict:
        """The page as it opens: signed in, Search; otherwise Account, to sign in."""
        shown_now = panel(session, lang)
        signed = shown_now[tab.signed_in]["visible"]
        return {**shown_now, shell.tabs: gr.update(selected="search" if signed else "account")}

    @friendly
    def what_goes(session, lang):
        return say(lang, "will_go", **service.account_summary(session))

    token.change(None, [token], None, js=SESSION_COOKIE_JS)
    demo.load(None, [token], None, js=SESSION_COOKIE_JS)
    demo.load(
        None,
        None,
        [lang, tab.language, shell.offset],
        js=f"() => {{ const l = ({PAGE_LANGUAGE_JS})(); return [l, l, -new Date().getTimezoneOffset()]; }}",
    ).then(landing, [token, lang], [shown, tab.signed_out, tab.signed_in, shell.tabs], api_visibility="private")
    token.change(  # the page's language read afresh: a session restored at load may come before it is set
        panel,
        [token, lang],
        [shown, tab.signed_out, tab.signed_in],
        js=f"(token, lang) => [token, ({PAGE_LANGUAGE_JS})()]",
        show_progress="hidden",
        api_visibility="private",
    )
    tab.language.input(None, [tab.language], [lang], js=CHOOSE_LANGUAGE_JS)  # the server's words follow ``lang``
    lang.change(panel, [token, lang], [shown, tab.signed_out, tab.signed_in], api_visibility="private")
    signed = [token, shown, tab.password]
    for submit in (tab.login.click, tab.email.submit, tab.password.submit):  # Enter signs in
        submit(login, [tab.email, tab.password, lang], signed, api_visibility="private")
    for submit in (tab.register.click, tab.name.submit):
        submit(register, [tab.email, tab.password, tab.name, lang], signed, api_visibility="private")
    tab.logout.click(logout, [token, lang], [token, shown], api_visibility="private")
    for submit in (tab.rename.click, tab.new_name.submit):
        submit(rename, [token, tab.new_name, lang], [shown], api_visibility="private")
    changing = [token, tab.current_pw, tab.new_pw, lang]
    for submit in (tab.change.click, tab.new_pw.submit):
        submit(change_password, changing, [token, tab.current_pw, tab.new_pw], api_visibility="private")
    listing = [tab.links, tab.link_pick]
    tab.links_box.expand(public_links, [token, lang], listing, api_visibility="private")
    tab.turn_off.click(turn_off, [token, tab.link_pick, lang], listing, api_visibility="private")
    tab.delete_box.expand(what_goes, [token, lang], [tab.will_go], api_visibility="private")
    for submit in (tab.delete_me.click, tab.gone_pw.submit):
        submit(delete_account, [token, tab.gone_pw, lang], [token, shown, tab.gone_pw], api_visibility="private")
