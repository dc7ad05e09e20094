"""Domain errors. Services raise these; each face maps them to its own answer once."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every error a service raises on purpose. The message is safe to show."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """The thing does not exist, or the actor may not know that it exists."""


class Forbidden(DomainError):
    """The actor is known but may not do this."""


class Conflict(DomainError):
    """The request clashes with the current state (a duplicate, a used invitation...)."""


class Invalid(DomainError):
    """The input is well-formed but breaks a domain rule."""


class Unauthenticated(DomainError):
    """Credentials are missing or wrong. The message never says which part was wrong."""


class Unavailable(DomainError):
    """The service cannot finish this now (saturated, or the database is unreachable): try again.

    ``extra`` goes into the answer beside the detail, so a request that carried a crisis signal
    still gets its crisis lines.
    """

    retry_after_seconds = 2

    def __init__(self, detail: str, *, extra: Mapping[str, object] | None = None) -> None:
        super().__init__(detail)
        self.extra = dict(extra or {})


class RateLimited(DomainError):
    """Too many attempts from this address or at this account for now; ``retry_after`` is in seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(int(retry_after), 1)
