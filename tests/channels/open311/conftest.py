"""Fixtures for the Open311 server: a client with its key, services with every kind of field."""

from __future__ import annotations

import datetime
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from cases.models import Category, CategoryField
from channels_app.models import Open311Client
from channels_app.open311.services import open311_client_create
from tests.factories import CategoryFactory
from tests.municipality import Org

Kind = CategoryField.Kind
FORM = "application/x-www-form-urlencoded"


@dataclass
class Open311World:
    org: Org
    client: Open311Client
    key: str
    pothole: Category  # fields of every kind
    streetlight: Category  # no fields
    social: Category  # sensitive: never offered

    def post(self, fmt: str = ".json", **params: Any) -> Any:
        """POST form-encoded to requests{fmt}; lists become repeated parameters."""
        body = {"api_key": self.key, **params}
        return Client().post(
            f"/open311/v2/requests{fmt}", data=urlencode(body, doseq=True), content_type=FORM
        )


def xml(response: Any) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)  # noqa: S314 - our own output, in a test


def field(category: Category, code: str, kind: str, position: int, **kwargs: Any) -> CategoryField:
    return CategoryField.objects.create(
        category=category,
        code=code,
        kind=kind,
        position=position,
        label_sv=f"{code} (sv)",
        label_da=f"{code} (da)",
        label_en=f"{code} (en)",
        **kwargs,
    )


@pytest.fixture
def world(org: Org) -> Open311World:
    pothole = CategoryFactory(
        code="pothole",
        name_sv="Potthål",
        name_da="Hul i vejen",
        name_en="Pothole",
        department=org.waste,
    )
    field(pothole, "depth", Kind.NUMBER, 1, required=True, help_en="Centimetres")
    field(pothole, "note", Kind.TEXT, 2)
    field(pothole, "seen", Kind.DATE, 3)
    field(
        pothole,
        "size",
        Kind.CHOICE,
        4,
        choices=[
            {"key": "small", "name_sv": "Litet", "name_da": "Lille", "name_en": "Small"},
            {"key": "large", "name_sv": "Stort", "name_da": "Stort", "name_en": "Large"},
        ],
    )
    field(
        pothole,
        "where",
        Kind.MULTI_CHOICE,
        5,
        choices=[
            {"key": "road", "name_sv": "Väg", "name_da": "Vej", "name_en": "Road"},
            {"key": "path", "name_sv": "Gångväg", "name_da": "Sti", "name_en": "Path"},
        ],
    )
    field(pothole, "danger", Kind.YES_NO, 6)
    field(pothole, "spot", Kind.LOCATION, 7)
    field(pothole, "photo", Kind.ATTACHMENT, 8)
    streetlight = CategoryFactory(
        code="streetlight", name_en="Street light out", department=org.building
    )
    social = CategoryFactory(
        code="social-worry", name_en="Worried about a child", sensitive=True, department=org.waste
    )
    # An ended version of a category: not offered any more.
    CategoryFactory(
        code="old-bins",
        department=org.waste,
        valid_from=datetime.date(2010, 1, 1),
        valid_to=datetime.date(2011, 1, 1),
    )
    client, key = open311_client_create(name="FixaStan", description="Felanmälan app")
    return Open311World(
        org=org, client=client, key=key, pothole=pothole, streetlight=streetlight, social=social
    )


VALID = {
    "service_code": "pothole",
    "lat": "59.3293",
    "long": "18.0686",
    "attribute[depth]": "12",
    "description": "Stort hål framför skolan",
}


@pytest.fixture(autouse=True)
def _fresh_category_cache() -> Any:
    """POSTs read categories through the e-service's per-process cache: start every test
    without the rows (and ids) an earlier test cached."""
    from channels_app.eservice.services import category_cache_clear

    category_cache_clear()
    yield
    category_cache_clear()
