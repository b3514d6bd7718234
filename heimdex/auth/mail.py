"""Account mail: compose it (:func:`compose`, English or Korean) and send it.

With ``HEIMDEX_SMTP_URL`` set, :func:`send` hands the message to that server: ``smtp://`` is plain SMTP
upgraded with STARTTLS when the server offers it (port 587 unless given), ``smtps://`` is TLS from the
first byte (port 465); a user and password in the URL (URL-encoded) log in. Without it (development),
each message is written to ``<data_dir>/outbox/`` as an ``.eml`` file only its owner can read.

:func:`send_later` gives the message to one background thread, so no answer waits for a mail server;
:func:`wait_sent` waits until it has sent (or given up on) everything it was given. Logs name the kind
of mail and the recipient's domain and hash, never the address or the link (its token is a secret).
"""

from __future__ import annotations

import atexit
import hashlib
import html
import logging
import os
import queue
import secrets
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import unquote, urlsplit

from heimdex.config import Settings, get_settings
from heimdex.errors import HeimdexError, Kind

log = logging.getLogger("heimdex.auth.mail")

TIMEOUT_S = 20.0  # every connection to the mail server, and each command on it
QUEUE_SIZE = 1000  # messages waiting for the background thread; more are dropped (and logged)
LANGS = ("en", "ko")

# How long each kind's link lives, in minutes (heimdex.auth.onetime.LIVES); an export: settings.export_hours.
VALID_MINUTES = {"verify": 24 * 60, "reset": 60, "magic": 15}

# kind -> lang -> subject, the line before the link, its button, the lines after it ({valid}: how long it lives).
TEMPLATES: dict[str, dict[str, dict[str, str]]] = {
    "verify": {
        "en": {
            "subject": "Confirm your e-mail address",
            "before": "Please confirm your e-mail address for Heimdex by opening this link:",
            "button": "Confirm my address",
            "after": "The link is valid for {valid}. If you did not create a Heimdex account, you can ignore this mail.",
        },
        "ko": {
            "subject": "이메일 주소를 확인해 주세요",
            "before": "아래 링크를 열어 Heimdex 계정의 이메일 주소를 확인해 주세요.",
            "button": "이메일 주소 확인",
            "after": "이 링크는 {valid} 동안 유효합니다. Heimdex 계정을 만든 적이 없다면 이 메일은 무시하셔도 됩니다.",
        },
    },
    "reset": {
        "en": {
            "subject": "Reset your Heimdex password",
            "before": "We received a request to reset the password of your Heimdex account. "
            "To choose a new password, open this link:",
            "button": "Choose a new password",
            "after": "The link is valid for {valid} and works once. "
            "If you did not ask, ignore this mail; your password stays as it is.",
        },
        "ko": {
            "subject": "Heimdex 비밀번호 재설정",
            "before": "Heimdex 계정의 비밀번호 재설정 요청을 받았습니다. 아래 링크를 열어 새 비밀번호를 정해 주세요.",
            "button": "새 비밀번호 정하기",
            "after": "이 링크는 {valid} 동안 유효하며 한 번만 사용할 수 있습니다. "
            "요청하지 않으셨다면 이 메일을 무시해 주세요. 비밀번호는 그대로 유지됩니다.",
        },
    },
    "magic": {
        "en": {
            "subject": "Your sign-in link",
            "before": "Open this link to sign in to Heimdex:",
            "button": "Sign in to Heimdex",
            "after": "The link is valid for {valid} and works once. "
            "If you did not ask to sign in, ignore this mail; nobody can sign in without the link.",
        },
        "ko": {
            "subject": "Heimdex 로그인 링크",
            "before": "아래 링크를 열면 Heimdex에 로그인됩니다.",
            "button": "Heimdex 로그인",
            "after": "이 링크는 {valid} 동안 유효하며 한 번만 사용할 수 있습니다. "
            "로그인을 요청하지 않으셨다면 이 메일을 무시해 주세요. 링크 없이는 누구도 로그인할 수 없습니다.",
        },
    },
    "export_ready": {
        "en": {
            "subject": "Your data is ready to download",
            "before": "The export of your Heimdex data that you asked for is ready. Download it here:",
            "button": "Download my data",
            "after": "The download is kept for {valid}, then deleted.",
        },
        "ko": {
            "subject": "데이터 다운로드 준비 완료",
            "before": "요청하신 Heimdex 데이터 내보내기가 준비되었습니다. 아래 링크에서 다운로드해 주세요.",
            "button": "내 데이터 다운로드",
            "after": "다운로드 파일은 {valid} 동안 보관된 후 삭제됩니다.",
        },
    },
}

COMMON = {  # lang -> the greeting ({name}), the fallback for the button, the signature
    "en": {
        "hello": "Hello {name},",
        "hello_anonymous": "Hello,",
        "copy": "If the button does not work, copy this address into your browser:",
        "signature": "— Heimdex, your private video moment search",
    },
    "ko": {
        "hello": "{name}님, 안녕하세요.",
        "hello_anonymous": "안녕하세요.",
        "copy": "버튼이 열리지 않으면 아래 주소를 복사해 브라우저에 붙여 넣어 주세요.",
        "signature": "— Heimdex · 나만의 비공개 영상 장면 검색",
    },
}

FIELDS = {"name", "link"}


class MailError(HeimdexError):
    """A message that could not be sent: the mail server is away or refused it (or the address is unusable)."""

    kind = Kind.UNAVAILABLE

    def __init__(self, message: str, kind: Kind | None = None):
        super().__init__(message)
        if kind is not None:
            self.kind = kind


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str  # plain text part
    html: str  # HTML part
    kind: str = ""  # verify, reset, magic, export_ready: named in logs (the link never is)


def _lang(lang: str | None) -> str:
    base = (lang or "").replace("_", "-").split("-")[0].lower()
    return base if base in LANGS else "en"


def _duration(minutes: int, lang: str) -> str:
    if minutes % 60:
        return f"{minutes}분" if lang == "ko" else f"{minutes} minute{'s' * (minutes != 1)}"
    hours = minutes // 60
    return f"{hours}시간" if lang == "ko" else f"{hours} hour{'s' * (hours != 1)}"


def _check_address(to: str) -> None:
    if any(c in to for c in "\r\n\0"):
        raise MailError("A mail address cannot hold a line break.", Kind.INVALID)
    addresses = getaddresses([to])
    if len(addresses) != 1 or "@" not in addresses[0][1]:
        raise MailError("A message goes to exactly one mail address.", Kind.INVALID)


def compose(kind: str, lang: str | None, to: str, **fields: str) -> Message:
    """The ``kind`` of account mail to ``to`` in ``lang`` (``en`` or ``ko``; anything else: English), with its
    ``link`` and the person's ``name`` (optional) in both the text and the HTML part."""
    if kind not in TEMPLATES:
        raise ValueError(f"no account mail of kind {kind!r}")
    if unknown := set(fields) - FIELDS:
        raise ValueError(f"account mail takes no field {', '.join(sorted(unknown))}")
    if not fields.get("link"):
        raise ValueError("account mail needs its link")
    _check_address(to)
    lang = _lang(lang)
    words, common = TEMPLATES[kind][lang], COMMON[lang]
    minutes = get_settings().export_hours * 60 if kind == "export_ready" else VALID_MINUTES[kind]
    after = words["after"].format(valid=_duration(minutes, lang))
    name, link = fields.get("name", "").strip(), fields["link"]
    hello = common["hello"].format(name=name) if name else common["hello_anonymous"]
    text = "\n\n".join([hello, words["before"], link, after, common["signature"]]) + "\n"
    hello_html = html.escape(common["hello"]).format(name=html.escape(name)) if name else html.escape(hello)
    button = (
        f'<a href="{html.escape(link)}" style="display:inline-block;padding:10px 18px;border-radius:6px;'
        f'background:#2b59c3;color:#ffffff;text-decoration:none;font-weight:600">{html.escape(words["button"])}</a>'
    )
    paragraphs = [
        hello_html,
        html.escape(words["before"]),
        button,
        f'{html.escape(common["copy"])}<br><span style="word-break:break-all">{html.escape(link)}</span>',
        html.escape(after),
        f'<span style="color:#666666">{html.escape(common["signature"])}</span>',
    ]
    body = "\n".join(f'<p style="margin:0 0 16px">{p}</p>' for p in paragraphs)
    page = (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(words["subject"])}'
        f'</title></head>\n<body style="font-family:sans-serif;font-size:15px;line-height:1.5;color:#222222">\n'
        f"{body}\n</body></html>\n"
    )
    return Message(to=to, subject=words["subject"], text=text, html=page, kind=kind)


def _who(to: str) -> str:
    """The recipient as logs may name it: a short hash of the address and its domain."""
    address = parseaddr(to)[1].strip().lower()
    digest = hashlib.sha256(address.encode("utf-8", "replace")).hexdigest()[:10]
    return f"#{digest} at {address.rpartition('@')[2] or '?'}"


def _email(message: Message, settings: Settings) -> EmailMessage:
    _check_address(message.to)
    sender = parseaddr(settings.mail_from)[1]
    email = EmailMessage()
    try:
        email["From"] = settings.mail_from
        email["To"] = message.to
        email["Subject"] = message.subject
    except ValueError as exc:  # a line break in a header the address check did not see
        raise MailError(f"The message has an unusable header: {exc}", Kind.INVALID) from None
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "heimdex.local")
    email.set_content(message.text)
    email.add_alternative(message.html, subtype="html")
    return email


def send(message: Message, *, settings: Settings | None = None, tls: ssl.SSLContext | None = None) -> None:
    """Send ``message`` now: to the SMTP server of ``settings.smtp_url``, or into the outbox without one.
    :class:`MailError` when it could not. ``tls`` replaces the system's trusted certificates (tests)."""
    settings = settings or get_settings()
    email = _email(message, settings)
    if settings.smtp_url:
        _deliver(email, settings.smtp_url, tls or ssl.create_default_context())
        log.info("account mail %s sent to %s", message.kind or "-", _who(message.to))
    else:
        path = _write_outbox(email, settings.data_dir / "outbox")
        log.info("account mail %s to %s written to %s", message.kind or "-", _who(message.to), path.name)


def _deliver(email: EmailMessage, url: str, tls: ssl.SSLContext) -> None:
    parts = urlsplit(url)
    implicit = parts.scheme == "smtps"
    try:
        host, port = parts.hostname, parts.port or (465 if implicit else 587)
    except ValueError as exc:  # a port that is not a number
        raise MailError(f"HEIMDEX_SMTP_URL is not usable: {exc}") from None
    if parts.scheme not in {"smtp", "smtps"} or not host:
        raise MailError("HEIMDEX_SMTP_URL must be smtp://[user:password@]host[:port] or smtps://...")
    try:
        if implicit:
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_S, context=tls)
        else:
            client = smtplib.SMTP(host, port, timeout=TIMEOUT_S)
        with client:
            if not implicit:
                client.ehlo()
                if client.has_extn("starttls"):
                    client.starttls(context=tls)
                    client.ehlo()
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(email)
    except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError and timeouts are OSErrors
        raise MailError(f"The mail server {host}:{port} did not take the message: {exc or type(exc).__name__}") from exc


_outbox_lock = threading.Lock()
_outbox_warned = False


def _write_outbox(email: EmailMessage, folder: Path) -> Path:
    global _outbox_warned
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = folder / f"{stamp}-{secrets.token_hex(4)}.eml"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(email.as_bytes())
    except OSError as exc:
        raise MailError(f"The message could not be written to {folder}: {exc}") from exc
    with _outbox_lock:
        if not _outbox_warned:
            _outbox_warned = True
            log.warning(
                "No SMTP server is set (HEIMDEX_SMTP_URL): account mail is written to %s (development only)", folder
            )
    return path


_Item = tuple[Message, Settings | None, ssl.SSLContext | None]


class _Sender:
    """One daemon thread sending what :func:`send_later` gives it, and a count of what it has not finished."""

    def __init__(self) -> None:
        self.queue: queue.Queue[_Item] = queue.Queue(maxsize=QUEUE_SIZE)
        self.pending = 0
        self.changed = threading.Condition()
        self.thread: threading.Thread | None = None

    def put(self, item: _Item) -> None:
        with self.changed:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="heimdex-mail", daemon=True)
                self.thread.start()
            try:
                self.queue.put_nowait(item)
            except queue.Full:
                message = item[0]
                log.warning(
                    "account mail %s to %s dropped: %d wait already", message.kind or "-", _who(message.to), QUEUE_SIZE
                )
                return
            self.pending += 1

    def _run(self) -> None:
        while True:
            message, settings, tls = self.queue.get()
            try:
                send(message, settings=settings, tls=tls)
            except MailError as exc:
                log.warning("account mail %s to %s was not sent: %s", message.kind or "-", _who(message.to), exc)
            except Exception:
                log.exception("account mail %s to %s was not sent", message.kind or "-", _who(message.to))
            finally:
                with self.changed:
                    self.pending -= 1
                    self.changed.notify_all()

    def wait(self, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.pending == 0, timeout)


_sender = _Sender()


def _new_sender() -> None:  # a forked child has none of its parent's threads: it starts its own on first use
    global _sender
    _sender = _Sender()


os.register_at_fork(after_in_child=_new_sender)


def send_later(message: Message, *, settings: Settings | None = None, tls: ssl.SSLContext | None = None) -> None:
    """Hand ``message`` to the background thread and return at once; it calls :func:`send` and logs a failure
    (never raised here). A full queue (:data:`QUEUE_SIZE`) drops the message with a warning."""
    try:
        _sender.put((message, settings, tls))
    except Exception:  # no thread to be had (the process is ending, or out of them): the caller still goes on
        log.exception("account mail %s to %s was not handed over", message.kind or "-", _who(message.to))


def wait_sent(timeout: float = 10.0) -> bool:
    """Block until everything given to :func:`send_later` was sent or given up on; False if ``timeout`` came first."""
    return _sender.wait(timeout)


atexit.register(wait_sent, TIMEOUT_S)  # a process ending lets the mail it promised go out first
