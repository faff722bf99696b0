"""Reads of the Open311 server: the services offered, and the public view of service requests.

What is public is decided here and nowhere else (``public_requests``): cases that came in
over Open311 (an inbound record with a source ``open311:<client>``), of a category that is
not sensitive; a web form's case is never published (its resident did not post it to a public
API). Personal data never leaves: no resident, no name, e-mail or phone; location facts come
from the request as it was posted. Each list is a constant number of queries, however many rows it returns.
"""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from cases.choices import Channel
from cases.models import Case, CaseEvent, CaseState, Category, CategoryField, EventKind
from channels_app.models import InboundMessage
from channels_app.open311.inputs import MAX_RESULTS, RequestFilters

S = CaseState
CLOSED_STATES = frozenset(
    {S.CLOSED, S.RESOLVED, S.RESOLVED_FIRST_CONTACT, S.MERGED, S.WITHDRAWN, S.SPAM}
)


def open311_status(state: str) -> str:
    """The spec knows two statuses: a case that is done or final is ``closed``."""
    return "closed" if state in CLOSED_STATES else "open"


def open311_services(*, day: datetime.date) -> QuerySet[Category]:
    """The services offered today: every category version valid today that is not sensitive
    (sensitive matters are never handled over an open machine interface)."""
    return (
        Category.objects.valid_on(day)
        .filter(sensitive=False)
        .select_related("department")
        .annotate(has_fields=Exists(CategoryField.objects.filter(category=OuterRef("pk"))))
        .order_by("code")
    )


def open311_service_get(*, code: str, day: datetime.date) -> Category | None:
    """The service (category version valid today) with its fields, or None."""
    return (
        Category.objects.valid_on(day)
        .filter(code=code, sensitive=False)
        .prefetch_related("fields")
        .first()
    )


def open311_service_for_post(*, code: str) -> Category | None:
    """The service a POST names, from the per-process category cache the e-service forms use
    (the version valid today with its department and fields, reused for
    ``CATEGORY_CACHE_SECONDS``), or None; sensitive categories are never offered.

    A POST is the hot path (many per second from a few systems); categories change a few times
    a year, so an edit in the admin reaches Open311 POSTs within a minute, like the forms. GET
    service definitions still read the database (``open311_service_get``).
    """
    from channels_app.eservice.services import category_for_code

    category = category_for_code(code)
    if category is None or category.sensitive:
        return None
    return category


def public_requests() -> QuerySet[Case]:
    """Every service request the public may see (only those posted over Open311: a case with an
    inbound record whose source starts with ``open311:``), with what its answer needs, in three
    queries: the cases (joined with category and the owning department, the Open311 check a
    subquery), their inbound records (location as posted) and their public notes
    (``status_notes``).

    A note is public only when its event data says ``{"public": true}`` (``case_add_note(...,
    public=True)``, staff only): internal notes, system notes and anything else stay out,
    whatever else their data holds.
    """
    inbound = InboundMessage.objects.only("id", "case_id", "source", "payload").order_by("pk")
    notes = CaseEvent.objects.filter(kind=EventKind.NOTE, data__public=True).order_by(
        "-created_at", "-id"
    )
    return (
        Case.objects.filter(
            Exists(
                InboundMessage.objects.filter(case=OuterRef("pk"), source__startswith="open311:")
            ),
            origin_channel=Channel.ESERVICE,
            category__isnull=False,
            category__sensitive=False,
        )
        .select_related("category", "department")
        .prefetch_related(
            Prefetch("inbound", queryset=inbound, to_attr="inbound_rows"),
            Prefetch(
                "events",
                queryset=notes.only("id", "case_id", "reason", "data", "created_at"),
                to_attr="public_notes",
            ),
        )
        .order_by("-created_at", "-id")
    )


def is_public_note(event: CaseEvent) -> bool:
    """A note the public may read: its data says ``"public": true``, the JSON boolean. The
    query's ``data__public=True`` narrows the rows, but on SQLite it also matches ``"true"``
    and ``1``; this is the rule."""
    return isinstance(event.data, dict) and event.data.get("public") is True


def _with_public_notes(cases: list[Case]) -> list[Case]:
    for case in cases:
        case.public_notes = [n for n in case.public_notes if is_public_note(n)]  # type: ignore[attr-defined]
    return cases


def open311_request_list(*, filters: RequestFilters) -> list[Case]:
    """GET requests: newest first, at most 1,000. ``service_request_id`` overrides the other
    filters, as the spec says."""
    return _with_public_notes(_request_list(filters))


def _request_list(filters: RequestFilters) -> list[Case]:
    qs = public_requests()
    if filters.references:
        return list(qs.filter(reference__in=filters.references)[:MAX_RESULTS])
    if filters.service_codes:
        qs = qs.filter(category__code__in=filters.service_codes)
    if filters.start is not None:
        qs = qs.filter(created_at__gte=filters.start)
    if filters.end is not None:
        qs = qs.filter(created_at__lte=filters.end)
    if set(filters.statuses) == {"open"}:
        qs = qs.exclude(state__in=CLOSED_STATES)
    elif set(filters.statuses) == {"closed"}:
        qs = qs.filter(state__in=CLOSED_STATES)
    return list(qs[:MAX_RESULTS])


def open311_request_get(*, reference: str) -> Case | None:
    case = public_requests().filter(reference=reference).first()
    return _with_public_notes([case])[0] if case is not None else None


def open311_token_get(*, token: str) -> InboundMessage | None:
    """The Open311 request behind a token (the inbound record's id), with its case."""
    if not token.isdigit():
        return None
    return (
        InboundMessage.objects.filter(pk=int(token), source__startswith="open311:")
        .select_related("case", "case__category")
        .first()
    )
