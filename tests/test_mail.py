"""Account mail: composed in both languages, sent to a real SMTP server (plain, STARTTLS, TLS), or into the outbox."""

from __future__ import annotations

import datetime
import email
import email.policy
import html
import ipaddress
import logging
import ssl
import stat
import uuid
from dataclasses import replace

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from smtp_mailbox import Mailbox

from heimdex.auth import mail
from heimdex.auth.mail import MailError, Message, compose, send, send_later, wait_sent
from heimdex.errors import Kind
from helpers import free_port

pytestmark = pytest.mark.unit

KINDS = ("verify", "reset", "magic", "export_ready")
LINK = "https://heimdex.example/account/verify?token=s3cr3t-token&lang=ko"
DURATIONS = {  # kind: (English, Korean)
    "verify": ("24 hours", "24시간"),
    "reset": ("1 hour", "1시간"),
    "magic": ("15 minutes", "15분"),
}


def _address() -> str:
    return f"person-{uuid.uuid4().hex[:8]}@example.com"


def _parts(message) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def _logged(caplog) -> str:
    return "\n".join(record.getMessage() for record in caplog.records if record.name == "heimdex.auth.mail")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: the server's TLS context, and a client's that trusts only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailbox.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return server, ssl.create_default_context(cadata=cert_pem.decode())


def test_every_kind_reads_in_english_and_korean_with_its_link_in_both_parts(settings):
    for kind in KINDS:
        english = compose(kind, "en", "a@example.com", name="Ada", link=LINK)
        korean = compose(kind, "ko", "a@example.com", name="에이다", link=LINK)
        for message in (english, korean):
            assert message.to == "a@example.com" and message.kind == kind
            assert message.subject and message.text and message.html
            assert LINK in message.text and html.escape(LINK) in message.html
            assert "Heimdex" in message.text and "Heimdex" in message.html
        assert "Hello Ada," in english.text and "에이다님, 안녕하세요." in korean.text
        assert english.subject != korean.subject and any("가" <= c <= "힣" for c in korean.subject + korean.text)
        assert not any("가" <= c <= "힣" for c in english.subject + english.text)
        assert compose(kind, None, "a@example.com", link=LINK).subject == english.subject  # no language: English
        assert compose(kind, "fr", "a@example.com", link=LINK).subject == english.subject
        assert compose(kind, "ko-KR", "a@example.com", link=LINK).subject == korean.subject
        assert compose(kind, "en", "a@example.com", link=LINK).text.startswith("Hello,\n")  # no name
    for kind, (english, korean) in DURATIONS.items():
        assert english in compose(kind, "en", "a@example.com", link=LINK).text
        assert korean in compose(kind, "ko", "a@example.com", link=LINK).text
    hours = settings.export_hours
    assert f"{hours} hour" in compose("export_ready", "en", "a@example.com", link=LINK).text
    assert f"{hours}시간" in compose("export_ready", "ko", "a@example.com", link=LINK).text
    subjects = {kind: compose(kind, "en", "a@example.com", link=LINK).subject for kind in KINDS}
    assert subjects == {
        "verify": "Confirm your e-mail address",
        "reset": "Reset your Heimdex password",
        "magic": "Your sign-in link",
        "export_ready": "Your data is ready to download",
    }
    reset = compose("reset", "en", "a@example.com", link=LINK)
    assert "If you did not ask, ignore this mail; your password stays as it is." in reset.text


def test_fields_are_escaped_in_the_html_part_and_mistakes_are_refused(settings):
    name, link = "<script>alert(1)</script>", 'https://heimdex.example/x?a="><script>alert(2)</script>'
    message = compose("magic", "en", "a@example.com", name=name, link=link)
    assert "<script>" not in message.html and "&lt;script&gt;alert(1)" in message.html
    assert html.escape(link) in message.html
    assert name in message.text and link in message.text  # the text part is text
    with pytest.raises(ValueError):
        compose("welcome", "en", "a@example.com", link=LINK)
    with pytest.raises(ValueError):
        compose("verify", "en", "a@example.com", name="Ada")  # no link
    with pytest.raises(ValueError):
        compose("verify", "en", "a@example.com", link=LINK, token="x")


def test_a_message_arrives_over_smtp_with_its_headers_and_both_parts(mailbox, settings, caplog):
    from heimdex.config import get_settings

    assert get_settings().smtp_url == mailbox.url  # the environment the fixture set is what send() reads
    caplog.set_level(logging.INFO, logger="heimdex.auth.mail")
    to = _address()
    send(compose("verify", "ko", to, name="민수", link=LINK))
    received = mailbox.wait_for(to, "이메일 주소를 확인해 주세요")
    assert received["From"] == settings.mail_from and received["To"] == to
    assert received["Subject"] == "이메일 주소를 확인해 주세요"
    assert received["Date"] and received["Message-ID"]
    assert received.get_content_type() == "multipart/alternative"
    text, page = _parts(received)
    assert "민수님" in text and "민수님" in page and html.escape(LINK) in page
    assert mailbox.link(received, "/account/verify") == LINK
    assert "with ESMTP" in received["Received"]  # the fixture's server offers no STARTTLS: plain SMTP
    logged = _logged(caplog)
    assert "verify" in logged and "example.com" in logged
    assert "s3cr3t" not in logged and to not in logged  # neither the link's token nor the address


def test_starttls_with_a_login_from_the_url(certificate, settings):
    server_tls, client_tls = certificate
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(
            success=(auth_data.login, auth_data.password) == (b"heimdex@mail", b"p@ss:w/rd"), handled=False
        )

    box = Mailbox(tls_context=server_tls, require_starttls=True, authenticator=authenticator)
    try:
        port = box.url.rpartition(":")[2]
        tls_settings = replace(settings, smtp_url=f"smtp://heimdex%40mail:p%40ss%3Aw%2Frd@127.0.0.1:{port}")
        to = _address()
        send(compose("reset", "en", to, name="Ada", link=LINK), settings=tls_settings, tls=client_tls)
        received = box.wait_for(to, "Reset your Heimdex password")
        assert "with ESMTPSA" in received["Received"]  # over TLS (STARTTLS), after a login
        assert logins == [(b"heimdex@mail", b"p@ss:w/rd")]  # the URL's user and password, decoded
        with pytest.raises(MailError, match="CERTIFICATE_VERIFY_FAILED"):  # the system's trust: a self-signed refused
            send(compose("reset", "en", to, link=LINK), settings=tls_settings)
        wrong = replace(tls_settings, smtp_url=f"smtp://heimdex%40mail:wrong@127.0.0.1:{port}")
        with pytest.raises(MailError, match="535"):
            send(compose("reset", "en", to, link=LINK), settings=wrong, tls=client_tls)
        assert len(box.messages(to)) == 1
    finally:
        box.stop()


def test_implicit_tls_with_smtps(certificate, settings):
    server_tls, client_tls = certificate
    box = Mailbox(ssl_context=server_tls)
    try:
        assert box.url.startswith("smtps://")
        to = _address()
        send(compose("magic", "en", to, link=LINK), settings=replace(settings, smtp_url=box.url), tls=client_tls)
        assert "with ESMTPS" in box.wait_for(to, "Your sign-in link")["Received"]
    finally:
        box.stop()


def test_without_smtp_the_outbox_keeps_each_message_and_one_warning_says_so(settings, tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(mail, "_outbox_warned", False)  # as in a fresh process
    caplog.set_level(logging.INFO, logger="heimdex.auth.mail")
    development = replace(settings, smtp_url=None, data_dir=tmp_path)
    send(compose("verify", "en", "first@example.com", link=LINK), settings=development)
    send(compose("export_ready", "ko", "second@example.org", link=LINK), settings=development)
    outbox = tmp_path / "outbox"
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 2 and stat.S_IMODE(outbox.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    stored = [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in files]
    assert {str(message["To"]) for message in stored} == {"first@example.com", "second@example.org"}
    assert all(message["From"] == settings.mail_from and LINK in _parts(message)[0] for message in stored)
    records = [record for record in caplog.records if record.name == "heimdex.auth.mail"]
    warnings = [record.getMessage() for record in records if record.levelno == logging.WARNING]
    assert warnings == [
        f"No SMTP server is set (HEIMDEX_SMTP_URL): account mail is written to {outbox} (development only)"
    ]
    infos = [record.getMessage() for record in records if record.levelno == logging.INFO]
    assert len(infos) == 2 and all(any(path.name in line for line in infos) for path in files)
    assert "s3cr3t" not in _logged(caplog) and "first@" not in _logged(caplog)


def test_send_later_returns_before_the_server_takes_the_message(mailbox, settings):
    to = _address()
    with mailbox.hold():  # the server accepts nothing until the block ends
        assert send_later(compose("magic", "ko", to, link=LINK)) is None
        assert mailbox.messages(to) == [] and not wait_sent(timeout=0)
    assert wait_sent()
    assert mailbox.wait_for(to, "로그인 링크")["To"] == to


def test_line_breaks_in_headers_are_refused(settings):
    for to in ("a@example.com\r\nBcc: b@example.com", "a@example.com\nBcc: b@example.com", "a@example.com, b@x.org"):
        with pytest.raises(MailError) as refused:
            compose("verify", "en", to, link=LINK)
        assert refused.value.kind == Kind.INVALID
        with pytest.raises(MailError):
            send(Message(to=to, subject="Hi", text="t", html="<p>h</p>"), settings=settings)
    with pytest.raises(MailError):
        send(Message(to="a@example.com", subject="Hi\r\nBcc: b@example.com", text="t", html="h"), settings=settings)


def test_a_server_away_fails_send_and_send_later_only_logs(settings, caplog):
    caplog.set_level(logging.INFO, logger="heimdex.auth.mail")
    away = replace(settings, smtp_url=f"smtp://127.0.0.1:{free_port()}")  # nothing listens there
    message = compose("reset", "en", _address(), link=LINK)
    with pytest.raises(MailError) as failed:
        send(message, settings=away)
    assert failed.value.kind == Kind.UNAVAILABLE and failed.value.answer.http == 503
    assert send_later(message, settings=away) is None
    assert wait_sent()
    failures = [
        r.getMessage() for r in caplog.records if r.name == "heimdex.auth.mail" and r.levelno == logging.WARNING
    ]
    assert len(failures) == 1 and "reset" in failures[0] and "was not sent" in failures[0]
    assert "Connection refused" in failures[0]  # its cause
    assert "s3cr3t" not in _logged(caplog) and message.to not in _logged(caplog)


def test_a_full_queue_drops_with_a_warning(mailbox, settings, monkeypatch, caplog):
    monkeypatch.setattr(mail, "QUEUE_SIZE", 1)
    monkeypatch.setattr(mail, "_sender", mail._Sender())
    caplog.set_level(logging.INFO, logger="heimdex.auth.mail")
    to = _address()
    with mailbox.hold():
        for _ in range(3):  # one in the server's hands or waiting, one waiting, the third has no room
            send_later(compose("verify", "en", to, link=LINK))
    assert wait_sent()
    dropped = [r for r in caplog.records if r.name == "heimdex.auth.mail" and "dropped" in r.getMessage()]
    assert 1 <= len(dropped) <= 2 and all(r.levelno == logging.WARNING for r in dropped)
    assert len(mailbox.messages(to)) == 3 - len(dropped)
