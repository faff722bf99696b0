"""Notifications to staff in the workspace (escalations write them; staff read them here)."""

from __future__ import annotations

from django.utils import timezone

from accounts.models import User
from cases.models import Notification


def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the user's own unread notifications read: those in ``ids``, or all of them.
    Another user's notifications are never touched. Returns how many changed."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
