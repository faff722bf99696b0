"""API keys: issued once, stored only as a hash, managed in the admin."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.messages import get_messages
from django.test import Client

import channels_app.open311.admin  # noqa: F401 - registers the admin (channels_app/admin.py will)
from channels_app.models import Open311Client
from channels_app.open311.services import open311_client_create, open311_client_for_key
from tests.municipality import Org

pytestmark = pytest.mark.django_db


def test_a_new_client_gets_a_random_key_of_which_only_the_hash_is_kept() -> None:
    client, key = open311_client_create(name="FixaStan", description="Felanmälan app")
    other, other_key = open311_client_create(name="Other")
    assert len(key) >= 43 and key != other_key
    assert client.key_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(Open311Client.objects.values().get(pk=client.pk))
    assert open311_client_for_key(key=key) == client
    assert open311_client_for_key(key=other_key) == other


def test_a_wrong_empty_or_deactivated_key_finds_no_client() -> None:
    client, key = open311_client_create(name="FixaStan")
    assert open311_client_for_key(key="guess") is None
    assert open311_client_for_key(key="") is None
    client.active = False
    client.save()
    assert open311_client_for_key(key=key) is None


def test_the_admin_issues_the_key_and_shows_it_once(org: Org) -> None:
    browser = Client()
    browser.force_login(org.admin)
    response = browser.post(
        "/admin/channels_app/open311client/add/",
        {"name": "FixaStan", "description": "Felanmälan app", "active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    client = Open311Client.objects.get()
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    [message] = [m for m in shown if "API key" in m]
    key = message.split(" is ", 1)[1].split(". Copy", 1)[0]
    assert client.key_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert open311_client_for_key(key=key) == client
    # The change page never shows it again.
    page = browser.get(f"/admin/channels_app/open311client/{client.pk}/change/")
    assert key.encode() not in page.content and client.key_sha256.encode() not in page.content


def test_the_admin_rotates_a_key_and_the_old_one_stops_working(org: Org) -> None:
    client, old_key = open311_client_create(name="FixaStan")
    browser = Client()
    browser.force_login(org.admin)
    response = browser.post(
        "/admin/channels_app/open311client/",
        {"action": "rotate_key", "_selected_action": [client.pk]},
        follow=True,
    )
    [message] = [str(m) for m in get_messages(response.wsgi_request) if "API key" in str(m)]
    new_key = message.split(" is ", 1)[1].split(". Copy", 1)[0]
    assert open311_client_for_key(key=old_key) is None
    assert open311_client_for_key(key=new_key) == client
