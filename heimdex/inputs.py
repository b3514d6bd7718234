"""Text and numbers from requests, made safe to store and compare before anything else sees them.

PostgreSQL refuses NUL characters and UTF-8 has no lone surrogates, so both would
otherwise surface as internal errors far from where they came in.
"""

from __future__ import annotations

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
