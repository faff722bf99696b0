"""Admin actions that change things need the change permission, not just view."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import Role
from channels_app.models import InboundMessage, InboundStatus, Open311Client
from channels_app.open311.services import open311_client_create, open311_client_for_key
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def viewer() -> Client:
    user = UserFactory(username="viewer", role=Role.SUPERVISOR, is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_open311client", "view_inboundmessage"])
    )
    client = Client()
    client.force_login(user)
    return client


def test_a_viewer_cannot_rotate_an_api_key() -> None:
    system, key = open311_client_create(name="Felanmälan-appen")
    response = viewer().post(
        "/admin/channels_app/open311client/",
        {"action": "rotate_key", "_selected_action": [system.pk]},
    )
    assert response.status_code == 200  # the changelist again: the action is not offered
    assert open311_client_for_key(key=key) == Open311Client.objects.get(pk=system.pk)


def test_a_viewer_cannot_requeue_quarantined_items() -> None:
    item = InboundMessage.objects.create(
        channel="email",
        source="email:x",
        external_id="1",
        status=InboundStatus.QUARANTINED,
        reason="bad",
    )
    viewer().post(
        "/admin/channels_app/inboundmessage/",
        {"action": "reprocess", "_selected_action": [item.pk]},
    )
    item.refresh_from_db()
    assert item.status == InboundStatus.QUARANTINED
