"""Errors that carry what the user should see and the CLI exit code they map to."""

from __future__ import annotations


class HeimdexError(Exception):
    """An internal failure (exit code 1)."""

    exit_code = 1


class BadInput(HeimdexError):
    """The user's input is wrong (exit code 2); ``code`` is stable, the message is for people."""

    exit_code = 2

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(BadInput):
    """A user, video or other record that does not exist (or is not the caller's)."""

    def __init__(self, what: str, key: object):
        super().__init__(f"{what}_not_found", f"No {what} {key}.")
