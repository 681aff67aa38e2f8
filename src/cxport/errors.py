"""The errors the core raises; front ends translate them (CLI: exit codes)."""

from __future__ import annotations


class CxportError(Exception):
    """Base of every error cxport raises on purpose."""

    exit_code = 1


class UsageError(CxportError):
    """A request that cannot be carried out as asked (bad option, unknown export)."""

    exit_code = 2


class InvalidInput(CxportError):
    """Input records or files that are not valid; nothing was stored."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None, total: int = 0):
        super().__init__(message)
        self.problems = problems or []
        self.total = total or len(self.problems)


class StoreError(CxportError):
    """The store cannot be opened or used."""


class NotFound(CxportError):
    exit_code = 2


class Unauthorized(CxportError):
    """No credentials, or credentials that match no one."""

    exit_code = 2


class Forbidden(CxportError):
    """A role or channel the caller may not use."""

    exit_code = 2


class Conflict(CxportError):
    """The object is not in a state that allows it (e.g. downloading a running export)."""

    exit_code = 2


class Gone(CxportError):
    """The object existed and is no longer there (an expired export's file)."""

    exit_code = 2


class TooMany(CxportError):
    """Too many requests waiting or running."""

    exit_code = 2


class InvalidField(UsageError):
    """A field of a request that is not allowed; `field` names it (a front end words it:
    `--tz` in the CLI, `tz` in JSON)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message
