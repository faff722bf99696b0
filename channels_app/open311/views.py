"""The GeoReport v2 endpoints. Thin: parse, call one selector or service, render.

Every view answers in the format of its URL suffix (``.json``, ``.xml``; none means JSON) and
reports failures in the spec's error format. Names and descriptions are in the language of
``?locale=`` or ``Accept-Language`` (default: the site's language).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from cases.models import Case, Category, CategoryField
from channels_app.open311 import selectors, services
from channels_app.open311.inputs import parse_request_filters, parse_request_post
from channels_app.open311.render import Open311Error, error_response, respond

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When this API last changed in a way clients should notice (the discovery "changeset").
CHANGESET = "2026-11-23T00:00:00Z"
LANGUAGES = ("sv", "da", "en")
Kind = CategoryField.Kind


def _language(request: HttpRequest) -> str:
    wanted = (request.GET.get("locale") or "")[:2].lower()
    if wanted in LANGUAGES:
        return wanted
    return translation.get_language_from_request(request)[:2]


def open311(*methods: str) -> Callable[..., Callable[..., HttpResponse]]:
    """Method check, language, and the spec's error format around a view."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        # Machine interfaces: authenticated by api_key in the form (POST requests) or open to
        # all (the rest), never by a browser session, so there is no cookie for a forged
        # cross-site request to ride on and Django's CSRF check does not apply. Exempting every
        # view also keeps refusals in the spec's error format instead of Django's HTML 403.
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, fmt: str = "json", **kwargs: Any) -> HttpResponse:
            allowed = (*methods, "HEAD") if "GET" in methods else methods
            if request.method not in allowed:
                response = error_response(Open311Error(405, _("Method not allowed.")), fmt=fmt)
                response["Allow"] = ", ".join(allowed)
                return response
            with translation.override(_language(request)):
                try:
                    return view(request, fmt=fmt, **kwargs)
                except Open311Error as error:
                    return error_response(error, fmt=fmt)

        return wrapper

    return decorate


def _when(value: Any) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# --- Discovery and services ------------------------------------------------------------------------
@open311("GET")
def discovery(request: HttpRequest, *, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(reverse("open311:services").rsplit("/", 1)[0] + "/")
    data = {
        "changeset": CHANGESET,
        "contact": settings.DEFAULT_FROM_EMAIL,
        "key_service": _("API keys are issued by the municipality's administrator: %(contact)s")
        % {"contact": settings.DEFAULT_FROM_EMAIL},
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return respond(data, fmt=fmt, root="discovery")


@open311("GET")
def service_list(request: HttpRequest, *, fmt: str) -> HttpResponse:
    rows = [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": "",
            "metadata": c.has_fields,
            "type": "realtime",
            "keywords": "",
            "group": c.department.name,
        }
        for c in selectors.open311_services(day=timezone.localdate())
    ]
    return respond(rows, fmt=fmt, root="services", item="service")


def _attribute(field: CategoryField) -> dict[str, Any] | None:
    """A category field as an Open311 attribute; attachments cannot be sent (use media_url)."""
    values: list[dict[str, str]] = []
    description = ""
    if field.kind == Kind.ATTACHMENT:
        return None
    if field.kind == Kind.TEXT:
        datatype = "text"
    elif field.kind == Kind.NUMBER:
        datatype = "number"
    elif field.kind == Kind.DATE:
        datatype, description = "datetime", _("A date, YYYY-MM-DD.")
    elif field.kind in (Kind.CHOICE, Kind.MULTI_CHOICE):
        datatype = "singlevaluelist" if field.kind == Kind.CHOICE else "multivaluelist"
        lang = translation.get_language()
        values = [
            {
                "key": str(c.get("key")),
                "name": c.get(f"name_{lang}") or c.get("name_en") or c.get("name_sv") or "",
            }
            for c in field.choices or []
            if isinstance(c, dict)
        ]
    elif field.kind == Kind.YES_NO:
        datatype = "singlevaluelist"
        values = [{"key": "true", "name": _("Yes")}, {"key": "false", "name": _("No")}]
    elif field.kind == Kind.LOCATION:
        datatype, description = "string", _("lat,long or address")
    else:
        datatype = "string"
    return {
        "variable": True,
        "code": field.code,
        "datatype": datatype,
        "required": field.required,
        "datatype_description": description or field.help_text,
        "order": field.position,
        "description": field.label,
        "values": values,
    }


@open311("GET")
def service_definition(request: HttpRequest, *, fmt: str, service_code: str) -> HttpResponse:
    category = selectors.open311_service_get(code=service_code, day=timezone.localdate())
    if category is None:
        raise Open311Error(404, _("Unknown service_code %(code)s.") % {"code": service_code})
    attributes = [a for a in map(_attribute, category.fields.all()) if a is not None]
    for attribute in attributes:
        if not attribute["values"]:
            del attribute["values"]
    data = {"service_code": category.code, "attributes": attributes}
    return respond(data, fmt=fmt, root="service_definition")


# --- Service requests ------------------------------------------------------------------------------
def _request_row(case: Case) -> dict[str, Any]:
    """One public service request. No personal data: no resident, names, e-mails or phones."""
    open311_rows = [m for m in case.inbound_rows if m.source.startswith("open311:")]  # type: ignore[attr-defined]
    posted = open311_rows[0].payload if open311_rows else {}
    notes = case.public_notes  # type: ignore[attr-defined]
    category: Category = case.category  # type: ignore[assignment]
    spam = case.state == selectors.S.SPAM
    return {
        "service_request_id": case.reference,
        "status": selectors.open311_status(case.state),
        # Spam stays listed as closed (its client asked about it) but its text is not repeated.
        "status_notes": notes[0].reason if notes and not spam else "",
        "service_name": category.name,
        "service_code": category.code,
        # Only what was posted over Open311 (meant to be public); a web form's text is not.
        "description": "" if spam else posted.get("description", ""),
        # Whoever holds the case now (the contact center, or the unit it was forwarded to),
        # not the category's usual owner: that is who the public can ask about it.
        "agency_responsible": case.department.name,
        "service_notice": "",
        "requested_datetime": _when(case.created_at),
        "updated_datetime": _when(case.updated_at),
        "expected_datetime": _when(case.resolve_due_at),
        "address": posted.get("address_string", ""),
        "address_id": posted.get("address_id", ""),
        "zipcode": posted.get("zipcode", ""),
        "lat": posted.get("lat"),
        "long": posted.get("long"),
        "media_url": "" if spam else posted.get("media_url", ""),
    }


def _jurisdiction(request: HttpRequest) -> None:
    """jurisdiction_id is optional; if the site names its own (OPEN311_JURISDICTION_ID), another
    one is unknown (404), as the spec says."""
    expected = getattr(settings, "OPEN311_JURISDICTION_ID", "")
    given = (request.POST if request.method == "POST" else request.GET).get("jurisdiction_id", "")
    if expected and given and given != expected:
        raise Open311Error(404, _("Unknown jurisdiction_id %(id)s.") % {"id": given})


def _create(request: HttpRequest, *, fmt: str) -> HttpResponse:
    content_type = request.content_type or ""
    if content_type != "application/x-www-form-urlencoded":
        raise Open311Error(
            400, _("Send the request form-encoded (application/x-www-form-urlencoded).")
        )
    key = (request.POST.get("api_key") or "").strip()
    if not key:
        raise Open311Error(400, _("api_key is required."))
    client = services.open311_client_for_key(key=key)
    if client is None:
        raise Open311Error(403, _("Invalid api_key."))
    data = parse_request_post(
        request.POST, category_lookup=lambda code: selectors.open311_service_for_post(code=code)
    )
    result = services.open311_request_submit(client=client, data=data, params=request.POST)
    if result.reference is not None:
        row: dict[str, Any] = {
            "service_request_id": result.reference,
            "service_notice": _("Thank you. Your report is registered as %(ref)s.")
            % {"ref": result.reference},
            "account_id": None,
        }
    else:
        row = {"token": result.token, "service_notice": "", "account_id": None}
    # 200, not 201: the spec names no status for success and clients written against other
    # servers expect 200.
    return respond([row], fmt=fmt, root="service_requests", item="request")


@open311("GET", "POST")
def requests(request: HttpRequest, *, fmt: str) -> HttpResponse:
    _jurisdiction(request)
    if request.method == "POST":
        return _create(request, fmt=fmt)
    filters = parse_request_filters(request.GET)
    rows = [_request_row(c) for c in selectors.open311_request_list(filters=filters)]
    return respond(rows, fmt=fmt, root="service_requests", item="request")


@open311("GET")
def request_detail(request: HttpRequest, *, fmt: str, reference: str) -> HttpResponse:
    case = selectors.open311_request_get(reference=reference)
    if case is None:
        raise Open311Error(404, _("Unknown service_request_id %(id)s.") % {"id": reference})
    return respond([_request_row(case)], fmt=fmt, root="service_requests", item="request")


@open311("GET")
def token(request: HttpRequest, *, fmt: str, token: str) -> HttpResponse:
    message = selectors.open311_token_get(token=token)
    if message is None:
        raise Open311Error(404, _("Unknown token %(token)s.") % {"token": token})
    case = message.case
    public = case is not None and case.category is not None and not case.category.sensitive
    row = {"service_request_id": case.reference if public else "", "token": str(message.pk)}  # type: ignore[union-attr]
    return respond([row], fmt=fmt, root="service_requests", item="request")
