"""Supervisors see what intake could not process and can queue it again."""

from __future__ import annotations

import pytest
from django.test import Client

from channels_app.models import InboundMessage, InboundStatus
from tests.municipality import Org

pytestmark = pytest.mark.django_db


def item(n: int, status: str = InboundStatus.QUARANTINED) -> InboundMessage:
    return InboundMessage.objects.create(
        channel="email",
        source="email:kontakt",
        external_id=f"m{n}",
        status=status,
        reason=f"Broken MIME {n}",
    )


def as_user(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_a_contact_center_supervisor_sees_the_quarantine(
    org: Org, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    for n in range(30):
        item(n)
    item(99, status=InboundStatus.PROCESSED)
    client = as_user(org.cc_supervisor)
    # session, user, department, count, page, the unread-notifications badge
    with django_assert_max_num_queries(6):
        response = client.get("/intake/quarantine/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('name="ids"') == 30
    assert "Broken MIME 29" in html and "Broken MIME 99" not in html


@pytest.mark.parametrize("who", ["agent", "waste_handler", "waste_supervisor", "comms"])
def test_others_do_not_know_the_page(org: Org, who: str) -> None:
    target = item(1)
    client = as_user(getattr(org, who))
    assert client.get("/intake/quarantine/").status_code == 404
    assert client.post("/intake/quarantine/requeue/", {"ids": [target.pk]}).status_code == 404
    target.refresh_from_db()
    assert target.status == InboundStatus.QUARANTINED


def test_requeue_puts_the_selected_items_back(org: Org, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    first, second = item(1), item(2)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = as_user(org.cc_supervisor).post(
            "/intake/quarantine/requeue/", {"ids": [first.pk]}, follow=True
        )
    assert "1 item queued again." in response.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (InboundStatus.PENDING, InboundStatus.QUARANTINED)
    assert len(callbacks) == 1  # one processing task, sent after commit
