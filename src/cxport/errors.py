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
