"""Template context for every staff page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The count of the signed-in user's unread notifications, read only when a template uses
    it (one indexed COUNT), so pages that do not show the header pay nothing."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from cases.selectors import notifications_unread_count

    return {"unread_notifications": SimpleLazyObject(lambda: notifications_unread_count(user=user))}
