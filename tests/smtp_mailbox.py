"""A real SMTP server in the test process (aiosmtpd) that keeps what it is given, so tests read mail as delivered.

Each message gets a ``Received`` header naming how it came (RFC 3848: ``ESMTP``, ``ESMTPS`` over TLS,
``ESMTPA``/``ESMTPSA`` after a login). :meth:`Mailbox.hold` makes the server sit on every message until released:
what returns meanwhile did not wait for the mail server.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from helpers import free_port

URL = re.compile(r"https?://[^\s<>\"']+")


class Mailbox:
    """``Mailbox()`` listens on a free loopback port at once; ``kwargs`` go to aiosmtpd's server (``tls_context``,
    ``require_starttls``, ``authenticator``...), ``ssl_context`` makes it TLS from the first byte (smtps)."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, **kwargs: Any):
        self._received: list[tuple[list[str], EmailMessage]] = []
        self._changed = threading.Condition()
        self._released = threading.Event()
        self._released.set()
        self.scheme = "smtps" if ssl_context else "smtp"
        self._controller = Controller(
            self,
            hostname="127.0.0.1",
            port=free_port(),
            ssl_context=ssl_context,
            server_hostname="mailbox.test",
            **kwargs,
        )
        self._controller.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._controller.port}"

    def stop(self) -> None:
        self._released.set()
        self._controller.stop()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's handler hook
        if not self._released.is_set():  # held: wait without blocking the server's loop
            await asyncio.get_running_loop().run_in_executor(None, self._released.wait)
        over_tls = server.transport is not None and server.transport.get_extra_info("ssl_object") is not None
        protocol = "ESMTP" + "S" * over_tls + "A" * bool(session.authenticated)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        message["Received"] = f"from {session.host_name} by mailbox.test with {protocol}"
        with self._changed:
            self._received.append(([address.lower() for address in envelope.rcpt_tos], message))
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Messages sent meanwhile are not accepted (the sender's DATA waits) until the block ends."""
        self._released.clear()
        try:
            yield
        finally:
            self._released.set()

    def messages(self, to: str) -> list[EmailMessage]:
        with self._changed:
            return [message for recipients, message in self._received if to.lower() in recipients]

    def wait_for(self, to: str, subject_contains: str = "", timeout: float = 30, nth: int = 1) -> EmailMessage:
        """The ``nth`` message to ``to`` whose subject holds ``subject_contains``, once it has arrived."""

        def match() -> EmailMessage | None:
            found = [m for m in self.messages(to) if subject_contains in str(m["Subject"] or "")]
            return found[nth - 1] if len(found) >= nth else None

        deadline = time.monotonic() + timeout
        with self._changed:
            while (found := match()) is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    arrived = [(recipients, str(message["Subject"])) for recipients, message in self._received]
                    raise AssertionError(
                        f"no mail to {to} with {subject_contains!r} in its subject within {timeout} s; "
                        f"arrived: {arrived}"
                    )
                self._changed.wait(left)
        return found

    @staticmethod
    def link(message: EmailMessage, path_contains: str) -> str:
        """The first http(s) address in the text part that holds ``path_contains``."""
        part = message.get_body(preferencelist=("plain",))
        assert part is not None, "the message has no text part"
        text = part.get_content()
        for url in URL.findall(text):
            if path_contains in url:
                return url
        raise AssertionError(f"no link with {path_contains!r} in: {text}")


RUNNING: list[Mailbox] = []  # the run's mailbox (tests/conftest.py), for helpers that have no fixtures


def confirm_token(to: str) -> str:
    """The token of the verification link mailed to ``to`` (sign-up sends one)."""
    from urllib.parse import parse_qs, urlsplit

    box = RUNNING[0]
    return parse_qs(urlsplit(box.link(box.wait_for(to, "Confirm"), "verify=")).query)["verify"][0]
