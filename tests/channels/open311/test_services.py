"""Discovery, the service list and service definitions, in JSON and XML."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.channels.open311.conftest import Open311World, xml

pytestmark = pytest.mark.django_db


def test_discovery_lists_the_endpoint_in_json(world: Open311World) -> None:
    response = Client().get("/open311/v2/discovery.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    data = response.json()
    assert data["endpoints"] == [
        {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "http://testserver/open311/v2/",
            "changeset": data["changeset"],
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }
    ]
    assert data["contact"] and data["key_service"]


def test_discovery_in_xml(world: Open311World) -> None:
    root = xml(Client().get("/open311/v2/discovery.xml"))
    assert root.tag == "discovery"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://testserver/open311/v2/"
    assert endpoint.findtext("type") == "production"
    assert [f.text for f in endpoint.findall("formats/format")] == [
        "application/json",
        "text/xml",
    ]


def test_services_lists_todays_public_categories(world: Open311World) -> None:
    response = Client().get("/open311/v2/services.json")
    assert response.status_code == 200
    rows = {row["service_code"]: row for row in response.json()}
    # Sensitive and ended categories are never offered.
    assert set(rows) == {"missed-bin", "building-permit", "pothole", "streetlight"}
    assert rows["pothole"] == {
        "service_code": "pothole",
        "service_name": "Pothole",
        "description": "",
        "metadata": True,
        "type": "realtime",
        "keywords": "",
        "group": "Waste",
    }
    assert rows["streetlight"]["metadata"] is False


def test_services_without_suffix_is_json(world: Open311World) -> None:
    response = Client().get("/open311/v2/services")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert len(response.json()) == 4


def test_services_speak_the_asked_language(world: Open311World) -> None:
    by_param = Client().get("/open311/v2/services.json?locale=sv").json()
    by_header = Client().get("/open311/v2/services.json", HTTP_ACCEPT_LANGUAGE="da").json()
    assert {r["service_code"]: r["service_name"] for r in by_param}["pothole"] == "Potthål"
    assert {r["service_code"]: r["group"] for r in by_param}["pothole"] == "Avfall"
    assert {r["service_code"]: r["service_name"] for r in by_header}["pothole"] == "Hul i vejen"


def test_services_in_xml(world: Open311World) -> None:
    root = xml(Client().get("/open311/v2/services.xml?locale=sv"))
    assert root.tag == "services"
    services = {s.findtext("service_code"): s for s in root.findall("service")}
    assert set(services) == {"missed-bin", "building-permit", "pothole", "streetlight"}
    pothole = services["pothole"]
    assert pothole.findtext("service_name") == "Potthål"
    assert pothole.findtext("metadata") == "true"
    assert pothole.findtext("type") == "realtime"
    assert pothole.findtext("group") == "Avfall"
    assert services["streetlight"].findtext("metadata") == "false"


def test_services_is_one_query(world: Open311World, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    with django_assert_num_queries(1):
        Client().get("/open311/v2/services.json")


def test_service_definition_maps_every_field_kind(world: Open311World) -> None:
    response = Client().get("/open311/v2/services/pothole.json")
    assert response.status_code == 200
    data = response.json()
    assert data["service_code"] == "pothole"
    attributes = {a["code"]: a for a in data["attributes"]}
    # Attachments cannot be sent form-encoded: not an attribute (media_url instead).
    assert list(attributes) == ["depth", "note", "seen", "size", "where", "danger", "spot"]
    assert attributes["depth"] == {
        "variable": True,
        "code": "depth",
        "datatype": "number",
        "required": True,
        "datatype_description": "Centimetres",
        "order": 1,
        "description": "depth (en)",
    }
    assert {c: a["datatype"] for c, a in attributes.items()} == {
        "depth": "number",
        "note": "text",
        "seen": "datetime",
        "size": "singlevaluelist",
        "where": "multivaluelist",
        "danger": "singlevaluelist",
        "spot": "string",
    }
    assert attributes["size"]["values"] == [
        {"key": "small", "name": "Small"},
        {"key": "large", "name": "Large"},
    ]
    assert attributes["danger"]["values"] == [
        {"key": "true", "name": "Yes"},
        {"key": "false", "name": "No"},
    ]
    assert attributes["spot"]["datatype_description"] == "lat,long or address"
    assert "values" not in attributes["note"]


def test_service_definition_in_xml(world: Open311World) -> None:
    root = xml(Client().get("/open311/v2/services/pothole.xml?locale=sv"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "pothole"
    attributes = {a.findtext("code"): a for a in root.findall("attributes/attribute")}
    size = attributes["size"]
    assert size.findtext("variable") == "true"
    assert size.findtext("datatype") == "singlevaluelist"
    assert size.findtext("required") == "false"
    assert size.findtext("order") == "4"
    assert size.findtext("description") == "size (sv)"
    assert [(v.findtext("key"), v.findtext("name")) for v in size.findall("values/value")] == [
        ("small", "Litet"),
        ("large", "Stort"),
    ]
    assert attributes["depth"].findtext("required") == "true"


@pytest.mark.parametrize("code", ["nope", "social-worry", "old-bins"])
def test_unknown_sensitive_or_ended_service_is_404(world: Open311World, code: str) -> None:
    response = Client().get(f"/open311/v2/services/{code}.json")
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": f"Unknown service_code {code}."}]
    root = xml(Client().get(f"/open311/v2/services/{code}.xml"))
    assert root.tag == "errors"
    assert root.findtext("error/code") == "404"
    assert root.findtext("error/description") == f"Unknown service_code {code}."


def test_wrong_method_is_405_in_the_error_format(world: Open311World) -> None:
    response = Client().post("/open311/v2/services.json")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()[0]["code"] == 405
