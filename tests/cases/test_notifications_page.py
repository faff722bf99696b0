"""The workspace's notifications page: each member of staff sees and marks only their own."""

from __future__ import annotations

import pytest
from django.test import Client

from cases.models import Notification
from tests.municipality import Org

pytestmark = pytest.mark.django_db


def login(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_staff_see_their_own_notifications_with_an_unread_count(org: Org) -> None:
    case = org.new_case()
    Notification.objects.create(
        recipient=org.waste_supervisor, case=case, kind="escalation", message="Frist passerad"
    )
    Notification.objects.create(recipient=org.agent, kind="escalation", message="Annan")

    page = login(org.waste_supervisor).get("/cases/notifications/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Frist passerad" in html and "Annan" not in html
    assert f'href="/cases/{case.reference}/"' in html
    assert '<span class="badge">1</span>' in html


def test_marking_read_touches_only_the_users_own_notifications(org: Org) -> None:
    mine = Notification.objects.create(recipient=org.agent, kind="x", message="Min")
    theirs = Notification.objects.create(recipient=org.cc_supervisor, kind="x", message="Deras")

    response = login(org.agent).post("/cases/notifications/", {"id": [mine.pk, theirs.pk]})

    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None
    assert theirs.read_at is None  # someone else's: unchanged


def test_mark_all_read_and_the_badge_disappears(org: Org) -> None:
    for i in range(3):
        Notification.objects.create(recipient=org.agent, kind="x", message=f"N{i}")
    client = login(org.agent)

    client.post("/cases/notifications/", {"all": "1"})

    assert Notification.objects.filter(recipient=org.agent, read_at__isnull=True).count() == 0
    assert 'class="badge"' not in client.get("/cases/notifications/").content.decode()


def test_the_page_needs_a_login() -> None:
    response = Client().get("/cases/notifications/")
    assert response.status_code == 302 and "/login" in response["Location"]
