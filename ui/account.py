"""The Account tab: sign in or register, profile, password, public links, deleting the account, signing out."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import gradio as gr

from heimdex.app import service
from heimdex.errors import BadInput
from ui.cards import clock
from ui.common import Shell, agent, client, friendly, me, who, who_acts
from ui.library import viewer_offset
from ui.text import CHOOSE_LANGUAGE_JS, EN, PAGE_LANGUAGE_JS, error, say, t

# The session token also travels as a same-site cookie, so the browser's uploads to Gradio's
# upload route carry it (heimdex.app.web.FileGate lets only signed-in requests upload).
# Signed out, the page also forgets the stored token: Gradio's BrowserState never stores an empty value, so the old
# one would come back at the next load.
SESSION_COOKIE_JS = """(token) => {
  document.cookie = "heimdex_session=" + encodeURIComponent(token || "") + "; path=/; SameSite=Strict"
                    + (token ? "" : "; max-age=0");
  if (!token) localStorage.removeItem("heimdex-token");
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
    forgot: gr.Button  # mail a reset link to the address typed
    by_link: gr.Button  # mail a sign-in link to the address typed
    told: gr.Markdown  # what was done with a mailed link, or that one is on its way
    reset_form: gr.Column  # shown when the page opens from a reset link
    magic_form: gr.Column  # shown when the page opens from a sign-in link: one click signs in
    magic_go: gr.Button
    reset_pw: gr.Textbox
    set_pw: gr.Button
    unverified: gr.Markdown  # the address is not confirmed yet: what waits for it
    resend: gr.Button
    sessions_box: gr.Accordion
    sessions: gr.HTML
    session_pick: gr.Dropdown
    end_one: gr.Button
    end_all: gr.Button
    activity_box: gr.Accordion
    activity: gr.HTML
    export_box: gr.Accordion
    export_shown: gr.HTML
    make_export: gr.Button
    export_timer: gr.Timer


RENEW_EVERY_S = 240  # the page renews its access token this often (it lives HEIMDEX_ACCESS_MINUTES, 15)
# The refresh token is kept in a cookie every tab of the browser shares, so the tab that renews next uses the newest
# one (two tabs renewing from copies would look like a stolen token, which ends the session).
REFRESH_COOKIE_JS = """(renew) => {
  document.cookie = "heimdex_refresh=" + encodeURIComponent(renew || "") + "; path=/; SameSite=Strict"
                    + (renew ? "; max-age=604800" : "; max-age=0");
  return [];
}"""
# A page opened from a mailed link forgets the link's token (history, bookmarks) once it was used.
FORGET_LINK_JS = """() => {
  const url = new URL(location.href);
  const came = new URLSearchParams(url.hash.slice(1)).has('access_token');
  if (came || ['verify', 'reset', 'magic'].some((k) => url.searchParams.has(k))) {
    ['verify', 'reset', 'magic'].forEach((k) => url.searchParams.delete(k));
    history.replaceState(null, '', url.pathname + url.search + (came ? '' : url.hash));
  }
  return [];
}"""
# With Supabase Auth its mails bring the person back with a session in the address's fragment, which only the page
# sees: it is handed to the server once, at load.
ARRIVED_JS = """() => {
  const came = new URLSearchParams(location.hash.slice(1));
  if (!came.has('access_token')) return '';
  return JSON.stringify({access_token: came.get('access_token'), refresh_token: came.get('refresh_token') || '',
                         type: came.get('type') || ''});
}"""


CSS = """
#activity table.activity {border-collapse: collapse; width: 100%; font-size: var(--text-sm)}
#activity table.activity td {border: none; border-bottom: 1px solid var(--border-color-primary); padding: 6px 8px;
    vertical-align: top}
#activity td.when {white-space: nowrap; color: var(--body-text-color-subdued)}
#sessions ul {padding-left: 1.2em}
"""


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
            with gr.Row():
                forgot = gr.Button(t("forgot_password"), size="sm", elem_id="forgot")
                by_link = gr.Button(t("email_link"), size="sm", elem_id="by-link")
        told = gr.Markdown("", elem_id="account-msg")
        with gr.Column(visible=False, elem_id="magic-form") as magic_form:  # a click, so a mail scanner spends nothing
            magic_go = gr.Button(t("sign_in_with_link"), variant="primary", elem_id="magic-go")
        with gr.Column(visible=False, elem_id="reset-form") as reset_form:
            reset_pw = secret("choose_new_password", "new-password", "reset-password")
            set_pw = gr.Button(t("set_password"), variant="primary")
        with gr.Column(visible=False, elem_id="profile") as signed_in:
            unverified = gr.Markdown("", visible=False, elem_id="unverified")
            resend = gr.Button(t("send_again"), visible=False, size="sm", elem_id="resend")
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
            with gr.Accordion(t("sessions"), open=False, elem_id="sessions-box") as sessions_box:
                sessions_list = gr.HTML("", elem_id="sessions")
                session_pick = gr.Dropdown([], label=t("session_to_end"), elem_id="session-pick")
                with gr.Row():
                    end_one = gr.Button(t("sign_out_there"))
                    end_all = gr.Button(t("sign_out_everywhere"), variant="stop")
            with gr.Accordion(t("activity"), open=False, elem_id="activity-box") as activity_box:
                activity_list = gr.HTML("", elem_id="activity")
            with gr.Accordion(t("download_data"), open=False, elem_id="export-box") as export_box:
                export_shown = gr.HTML("", elem_id="export-status")
                make_export = gr.Button(t("make_download"), elem_id="make-export")
                export_timer = gr.Timer(2.0, active=False)
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
        forgot=forgot,
        by_link=by_link,
        told=told,
        reset_form=reset_form,
        magic_form=magic_form,
        magic_go=magic_go,
        reset_pw=reset_pw,
        set_pw=set_pw,
        unverified=unverified,
        resend=resend,
        sessions_box=sessions_box,
        sessions=sessions_list,
        session_pick=session_pick,
        end_one=end_one,
        end_all=end_all,
        activity_box=activity_box,
        activity=activity_list,
        export_box=export_box,
        export_shown=export_shown,
        make_export=make_export,
        export_timer=export_timer,
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


def _when(iso: str, offset: float | None) -> str:
    """An ISO time in the viewer's time zone, short: ``2026-12-04 09:15``."""
    at = datetime.fromisoformat(iso) + timedelta(minutes=viewer_offset(offset))
    return at.strftime("%Y-%m-%d %H:%M")


def sessions_html(rows: list[dict], lang: str | None, offset: float | None) -> str:
    items = "".join(
        f"<li><b>{html.escape(r['device'])}</b>{' (' + say(lang, 'this_device') + ')' if r['current'] else ''}"
        f" · {say(lang, 'began')} {_when(r['created_at'], offset)} · {say(lang, 'last_seen')} "
        f"{_when(r['last_seen_at'], offset)}</li>"
        for r in rows
    )
    return f"<ul>{items}</ul>"


def activity_html(events: list[dict], lang: str | None, offset: float | None) -> str:
    if not events:
        return f"<p>{say(lang, 'no_activity')}</p>"
    rows = "".join(
        f"<tr><td class='when'>{_when(e['at'], offset)}</td><td>{html.escape(say(lang, 'event_' + e['event']) if 'event_' + e['event'] in EN else e['event'])}</td>"
        f"<td>{html.escape(e['device'])}</td></tr>"
        for e in events
    )
    return f"<table class='activity'><tbody>{rows}</tbody></table>"


def export_html(shown: dict | None, lang: str | None) -> str:
    """Where the last data download stands, and its link once ready."""
    note = f"<p>{say(lang, 'download_note')}</p>"
    if not shown:
        return note
    state = shown["state"]
    if state == "ready" and shown.get("url"):
        size = f"{(shown.get('bytes') or 0) / 1e6:.1f} MB"
        link = f"<a href='{html.escape(shown['url'])}' download>{say(lang, 'download')}</a>"
        return f"{note}<p>{say(lang, 'export_ready', size=size)} {link}</p>"
    if state == "failed":
        return f"{note}<p>{say(lang, 'export_failed', error=html.escape(shown.get('error') or ''))}</p>"
    if state == "expired":
        return f"{note}<p>{say(lang, 'export_expired')}</p>"
    if state == "running":
        return f"{note}<p>{say(lang, 'export_running', percent=int(100 * (shown.get('progress') or 0)))}</p>"
    return f"{note}<p>{say(lang, 'export_queued')}</p>"


def _arrival(arrived: str | None) -> dict:
    """The session a Supabase mail brought back (``access_token``, ``refresh_token``, ``type``), or nothing."""
    try:
        came = json.loads(arrived or "{}")
    except ValueError:
        return {}
    if not isinstance(came, dict) or not isinstance(came.get("access_token"), str) or not came["access_token"]:
        return {}
    return {k: str(came.get(k) or "")[:4000] for k in ("access_token", "refresh_token", "type")}


def wire(shell: Shell, tab: AccountTab, demo: gr.Blocks) -> None:
    token, renew, shown, lang, offset = shell.token, shell.renew, shell.who, shell.lang, shell.offset
    reset_link = gr.State("")  # the token of the reset link the page was opened from
    magic_link = gr.State("")  # ... of the sign-in link
    arrived = gr.Textbox("", visible="hidden", elem_id="arrived")  # what a Supabase mail brought, read at load
    renewal = gr.Timer(RENEW_EVERY_S)

    def signed(pair: dict) -> dict:
        return {token: pair["access_token"], renew: pair["refresh_token"]}

    gone = {token: "", renew: ""}

    @friendly
    def register(email, password, name, lang, request: gr.Request):
        pair = service.register(
            email, password, name or "", lang or "en", client=client(request), user_agent=agent(request)
        )
        return {**signed(pair), shown: who(pair["access_token"], lang), tab.password: "", tab.told: ""}

    @friendly
    def login(email, password, lang, request: gr.Request):
        pair = service.login(email, password, client=client(request), user_agent=agent(request))
        return {**signed(pair), shown: who(pair["access_token"], lang), tab.password: "", tab.told: ""}

    @friendly
    def ask_link(email, lang, request: gr.Request, reset: bool):
        if not (email or "").strip():
            raise BadInput("bad_email", say(lang, "enter_email_first"))
        ask = service.request_password_reset if reset else service.request_magic_link
        ask(email, lang or "en", client=client(request))
        return say(lang, "link_sent")

    def forgot(email, lang, request: gr.Request):
        return ask_link(email, lang, request, True)

    def by_link(email, lang, request: gr.Request):
        return ask_link(email, lang, request, False)

    @friendly
    def set_password(link, new, lang, request: gr.Request):
        pair = service.reset_password(link, new, user_agent=agent(request))
        gr.Info(say(lang, "password_reset_done"))  # the page goes on to Search, signed in
        return {
            **signed(pair),
            shown: who(pair["access_token"], lang),
            tab.reset_pw: "",
            tab.reset_form: gr.update(visible=False),
            reset_link: "",
            tab.told: say(lang, "password_reset_done"),
        }

    @friendly
    def magic_sign_in(link, lang, request: gr.Request):
        try:
            pair = service.magic_link_sign_in(link, user_agent=agent(request))
        except BadInput as refused:  # spent or expired: said, and the button goes
            gr.Warning(error(lang, refused))
            return {tab.magic_form: gr.update(visible=False), magic_link: "", tab.told: error(lang, refused)}
        gr.Info(say(lang, "signed_in_by_link"))  # the page goes on to Search, signed in
        return {
            **signed(pair),
            shown: who(pair["access_token"], lang),
            tab.magic_form: gr.update(visible=False),
            magic_link: "",
            tab.told: "",
        }

    @friendly
    def logout(session, lang):
        if session:
            service.logout(session)
        return {**gone, shown: who("", lang), tab.told: ""}

    @friendly
    def change_password(session, current, new, lang, request: gr.Request):
        pair = service.change_password(session, current, new, user_agent=agent(request))
        gr.Info(say(lang, "password_changed"))
        return {**signed(pair), tab.current_pw: "", tab.new_pw: ""}

    @friendly
    def delete_account(session, password, lang):
        service.delete_account(session, password)
        gr.Info(say(lang, "account_deleted"))
        return {**gone, shown: who("", lang), tab.gone_pw: ""}

    @friendly
    def resend(session, lang):
        service.resend_verification(session, lang or "en")
        gr.Info(say(lang, "link_sent_again"))

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

    @friendly
    def sessions(session, lang, offset):
        rows = service.sessions(session) if session else []
        choices = [
            (
                f"{r['device']}{' (' + say(lang, 'this_device') + ')' if r['current'] else ''} · {_when(r['last_seen_at'], offset)}",
                r["session_id"],
            )
            for r in rows
        ]
        return {
            tab.sessions: sessions_html(rows, lang, offset),
            tab.session_pick: gr.update(choices=choices, value=None, label=say(lang, "session_to_end")),
        }

    @friendly
    def end_one(session, picked, lang, offset):
        if not picked:
            raise BadInput("nothing_picked", "Pick one first.")
        here = next((r for r in service.sessions(session) if r["current"]), None)
        service.end_session(session, picked)
        if here and here["session_id"] == picked:
            return {**gone, shown: who("", lang)}
        gr.Info(say(lang, "session_ended_there"))
        return sessions(session, lang, offset)

    @friendly
    def end_all(session, lang):
        service.sign_out_everywhere(session)
        return {**gone, shown: who("", lang)}

    @friendly
    def activity(session, lang, offset):
        return activity_html(service.activity(session) if session else [], lang, offset)

    @friendly
    def exported(session, lang):
        found = service.export_status(session) if session else None
        running = bool(found) and found["state"] in {"queued", "running"}
        return {tab.export_shown: export_html(found, lang), tab.export_timer: gr.Timer(active=running)}

    @friendly
    def make_export(session, lang):
        service.export_data(session)
        return exported(session, lang)

    def panel(session, lang) -> dict:
        """Either the sign-in form or the profile, as the session is; the line saying who is signed in; what waits
        for a confirmed address."""
        profile = me(session)
        pending = profile is not None and not profile["verified"]
        waiting = (
            say(lang, "unverified", email=html.escape(profile["email"])) if profile is not None and pending else ""
        )
        return {
            shown: who(session, lang, profile),
            tab.signed_out: gr.update(visible=profile is None),
            tab.signed_in: gr.update(visible=profile is not None),
            tab.unverified: gr.update(visible=pending, value=waiting),
            tab.resend: gr.update(visible=pending),
        }

    def landing(session, lang, brought, request: gr.Request) -> dict:
        """The page as it opens: a mailed link it was opened from is used (confirm the address, sign in, or the
        form for a new password; ``brought``: what a Supabase mail brought); the session renewed from the cookie;
        signed in, Search; otherwise Account."""
        asked = dict(request.query_params) if request else {}
        came = _arrival(brought)
        told, out = "", {}
        try:
            if came.get("type") == "recovery":
                asked["reset"] = f"{came['access_token']} {came.get('refresh_token', '')}"
                out = {reset_link: asked["reset"], tab.reset_form: gr.update(visible=True)}
            elif came:
                pair = service.supabase_link_sign_in(came["access_token"], user_agent=agent(request))
                out, session = signed(pair), pair["access_token"]
                told = say(lang, "email_confirmed" if came.get("type") == "signup" else "signed_in_by_link")
            elif "verify" in asked:
                service.verify_email(asked["verify"])
                told = say(lang, "email_confirmed")
            elif "magic" in asked:  # used on a click: opening the link signs nobody in by itself
                out = {magic_link: str(asked["magic"])[:200], tab.magic_form: gr.update(visible=True)}
            elif "reset" in asked:
                out = {reset_link: str(asked["reset"])[:200], tab.reset_form: gr.update(visible=True)}
        except BadInput as refused:
            told = error(lang, refused)
        if not out.get(token):
            out |= shell.renewed(session, request)
            session = out.get(token, session)
        shown_now = panel(session, lang)
        is_in = shown_now[tab.signed_in]["visible"]
        at = "account" if told or "reset" in asked or "magic" in asked or not is_in else "search"
        # the session the page opens with is already the one shown: renewing its token clears nothing
        return {
            **out,
            **shown_now,
            tab.told: told,
            shell.tabs: gr.update(selected=at),
            shell.seen: who_acts(session),
            arrived: "",  # used once; not left in the page
        }

    def tick(session, request: gr.Request):
        return shell.renewed(session, request) or {token: gr.update()}

    token.change(None, [token], None, js=SESSION_COOKIE_JS)
    renew.change(None, [renew], None, js=REFRESH_COOKIE_JS)
    demo.load(None, [token], None, js=SESSION_COOKIE_JS)
    opened = [shown, tab.signed_out, tab.signed_in, tab.unverified, tab.resend, shell.tabs, tab.told]
    demo.load(
        None,
        None,
        [lang, tab.language, shell.offset, arrived],
        js=f"() => {{ const l = ({PAGE_LANGUAGE_JS})(); return [l, l, -new Date().getTimezoneOffset(), ({ARRIVED_JS})()]; }}",
    ).then(
        landing,
        [token, lang, arrived],
        [*opened, token, renew, reset_link, tab.reset_form, magic_link, tab.magic_form, shell.seen, arrived],
        api_visibility="private",
    ).then(None, None, None, js=FORGET_LINK_JS)
    renewal.tick(tick, [token], [token, renew], show_progress="hidden", api_visibility="private")
    profile_parts = [shown, tab.signed_out, tab.signed_in, tab.unverified, tab.resend]
    # Only when the page's session changes, not when its token is renewed (redrawing the panel on every token change
    # made Gradio fire the token's change again, endlessly); the page's language read afresh: a session restored at
    # load may come before it is set.
    shell.seen.change(
        panel,
        [token, lang],
        profile_parts,
        js=f"(token, lang) => [token, ({PAGE_LANGUAGE_JS})()]",
        show_progress="hidden",
        api_visibility="private",
    )
    tab.language.input(None, [tab.language], [lang], js=CHOOSE_LANGUAGE_JS)  # the server's words follow ``lang``
    lang.change(panel, [token, lang], profile_parts, api_visibility="private")
    signed_parts = [token, renew, shown, tab.password, tab.told]
    for submit in (tab.login.click, tab.email.submit, tab.password.submit):  # Enter signs in
        submit(login, [tab.email, tab.password, lang], signed_parts, api_visibility="private")
    for submit in (tab.register.click, tab.name.submit):
        submit(register, [tab.email, tab.password, tab.name, lang], signed_parts, api_visibility="private")
    tab.forgot.click(forgot, [tab.email, lang], [tab.told], api_visibility="private")
    tab.by_link.click(by_link, [tab.email, lang], [tab.told], api_visibility="private")
    setting = [token, renew, shown, tab.reset_pw, tab.reset_form, reset_link, tab.told]
    for submit in (tab.set_pw.click, tab.reset_pw.submit):
        submit(set_password, [reset_link, tab.reset_pw, lang], setting, api_visibility="private")
    going = [token, renew, shown, tab.magic_form, magic_link, tab.told]
    tab.magic_go.click(magic_sign_in, [magic_link, lang], going, api_visibility="private")
    tab.logout.click(logout, [token, lang], [token, renew, shown, tab.told], api_visibility="private")
    tab.resend.click(resend, [token, lang], None, api_visibility="private")
    for submit in (tab.rename.click, tab.new_name.submit):
        submit(rename, [token, tab.new_name, lang], [shown], api_visibility="private")
    changing = [token, tab.current_pw, tab.new_pw, lang]
    for submit in (tab.change.click, tab.new_pw.submit):
        submit(change_password, changing, [token, renew, tab.current_pw, tab.new_pw], api_visibility="private")
    listing = [tab.links, tab.link_pick]
    tab.links_box.expand(public_links, [token, lang], listing, api_visibility="private")
    tab.turn_off.click(turn_off, [token, tab.link_pick, lang], listing, api_visibility="private")
    session_parts = [tab.sessions, tab.session_pick]
    tab.sessions_box.expand(sessions, [token, lang, offset], session_parts, api_visibility="private")
    ending = [*session_parts, token, renew, shown]
    tab.end_one.click(end_one, [token, tab.session_pick, lang, offset], ending, api_visibility="private")
    tab.end_all.click(end_all, [token, lang], [token, renew, shown], api_visibility="private")
    tab.activity_box.expand(activity, [token, lang, offset], [tab.activity], api_visibility="private")
    export_parts = [tab.export_shown, tab.export_timer]
    tab.export_box.expand(exported, [token, lang], export_parts, api_visibility="private")
    tab.make_export.click(make_export, [token, lang], export_parts, api_visibility="private")
    tab.export_timer.tick(exported, [token, lang], export_parts, show_progress="hidden", api_visibility="private")

    @friendly
    def what_goes(session, lang):
        return say(lang, "will_go", **service.account_summary(session))

    tab.delete_box.expand(what_goes, [token, lang], [tab.will_go], api_visibility="private")
    for submit in (tab.delete_me.click, tab.gone_pw.submit):
        submit(delete_account, [token, tab.gone_pw, lang], [token, renew, shown, tab.gone_pw], api_visibility="private")
