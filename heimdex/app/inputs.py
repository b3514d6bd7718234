"""Text and numbers from requests, made safe to store and compare before anything else sees them.

PostgreSQL refuses NUL characters and UTF-8 has no lone surrogates, so both would
otherwise surface as internal errors far from where they came in.
"""

from __future__ import annotations

import ipaddress

from heimdex.errors import BadInput

MAX_TEXT = 2000


def clean_text(value: object, limit: int = MAX_TEXT) -> str:
    """``value`` as text without NUL characters or lone surrogates, at most ``limit`` characters."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return text[:limit]


def whole_number(value: object, what: str) -> int:
    """``value`` as an int; :class:`BadInput` naming ``what`` when it is not one."""
    try:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise BadInput("bad_number", f"The {what} must be a whole number.") from None
    if abs(number) > 2**62:
        raise BadInput("bad_number", f"The {what} is out of range.")
    return number


def seconds(value: object, what: str = "time") -> float:
    """``value`` as a finite number of seconds; :class:`BadInput` otherwise."""
    import math

    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise BadInput("bad_number", f"The {what} must be a number of seconds.") from None
    if not math.isfinite(number):
        raise BadInput("bad_number", f"The {what} must be a number of seconds.")
    return number


def client_address(peer: str | None, forwarded: str | None, trusted_proxies: str) -> str | None:
    """The caller's address, for limits counted per address: the connection's peer, unless the peer is a trusted
    proxy (``trusted_proxies``, see :class:`heimdex.config.Settings`); then the right-most address of
    ``X-Forwarded-For`` that is no trusted proxy (what the proxy saw; anything to its left the client wrote)."""
    trusted = [t.strip() for t in trusted_proxies.split(",") if t.strip()]
    hops = [h.strip() for h in (forwarded or "").split(",") if h.strip()]
    if peer is None or not hops or not _trusted(peer, trusted):
        return peer
    if "*" in trusted:  # one proxy: the address it added last
        return hops[-1]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0]


def _trusted(address: str, trusted: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in trusted:
        try:
            if entry == "*" or ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False
