"""Errors that services raise and every interface (API, pages, admin, commands) understands.

Services never return HTTP responses; they raise one of these and the interface maps it:
``ApplicationError`` -> 400, ``PermissionDeniedError`` -> 403, ``NotFoundError`` -> 404,
``ConflictError`` -> 409.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A request that cannot be carried out as asked. ``fields`` maps a field to its messages."""

    status_code = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = str(message)
        self.fields = fields or {}
        self.code = code or self.default_code
        self.extra = extra or {}


class PermissionDeniedError(ApplicationError):
    """The user may see the object but not do this to it."""

    status_code = 403
    default_code = "permission_denied"


class NotFoundError(ApplicationError):
    """The object does not exist, or the user may not know that it exists."""

    status_code = 404
    default_code = "not_found"


class ConflictError(ApplicationError):
    """The object changed under us (another user acted first) or is in the wrong state."""

    status_code = 409
    default_code = "conflict"
