"""The office's side of notices that people deliver: the letter queue (print, post, mark
printed) and the phone tasks (call, mark called).

Contact-center staff only (agents, supervisors, administrators); everyone else gets a 404, as
for any page they may not know about. Marking is a POST with CSRF, conditional on the row still
pending, so a double click or two agents at once count once.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases.choices import Channel
from cases.models import Case
from cases.permissions import is_contact_center_staff
from channels_app.email.receipts import mail_language
from channels_app.models import OutboundMessage, OutboundStatus
from channels_app.notices.services import outbound_mark_handled

PAGE_SIZE = 50


def _ensure_contact_center(request: HttpRequest) -> None:
    if not is_contact_center_staff(request.user):  # type: ignore[arg-type]
        raise Http404


def _pending(request: HttpRequest, channel: str):  # type: ignore[no-untyped-def]
    # Contact-center staff see every case today; going through visible_to keeps it so if the
    # rule ever changes (STYLE habit 11).
    return (
        OutboundMessage.objects.filter(
            channel=channel,
            status=OutboundStatus.PENDING,
            case__in=Case.objects.visible_to(request.user),  # type: ignore[arg-type]
        )
        .select_related("case", "resident")
        .order_by("created_at", "pk")
    )


@login_required
@require_GET
def letters(request: HttpRequest) -> HttpResponse:
    _ensure_contact_center(request)
    page = Paginator(_pending(request, Channel.LETTER), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notices/letters.html", {"page": page})


@login_required
@require_GET
def letters_print(request: HttpRequest) -> HttpResponse:
    """Every pending letter of the list's first page on one page, one sheet each."""
    _ensure_contact_center(request)
    rows = list(_pending(request, Channel.LETTER)[:PAGE_SIZE])
    return render(request, "notices/letter_print.html", {"letters": _with_language(rows)})


@login_required
@require_GET
def letter_print(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_contact_center(request)
    row = get_object_or_404(
        OutboundMessage.objects.select_related("case", "resident"), pk=pk, channel=Channel.LETTER
    )
    return render(request, "notices/letter_print.html", {"letters": _with_language([row])})


@login_required
@require_POST
def letter_printed(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_contact_center(request)
    get_object_or_404(OutboundMessage, pk=pk, channel=Channel.LETTER)
    if outbound_mark_handled(outbound_id=pk, channel=Channel.LETTER, user=request.user):
        messages.success(request, _("The letter is marked as printed and sent."))
    else:
        messages.info(request, _("The letter was already marked as printed."))
    return redirect("intake:notice-letters")


@login_required
@require_GET
def calls(request: HttpRequest) -> HttpResponse:
    _ensure_contact_center(request)
    page = Paginator(_pending(request, Channel.PHONE), PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _with_language(list(page.object_list))  # the script's lang attribute
    return render(request, "notices/calls.html", {"page": page})


@login_required
@require_POST
def call_made(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_contact_center(request)
    get_object_or_404(OutboundMessage, pk=pk, channel=Channel.PHONE)
    if outbound_mark_handled(outbound_id=pk, channel=Channel.PHONE, user=request.user):
        messages.success(request, _("The call is marked as made."))
    else:
        messages.info(request, _("The call was already marked as made."))
    return redirect("intake:notice-calls")


def _with_language(rows: list[OutboundMessage]) -> list[OutboundMessage]:
    """Each notice's language, for the lang attribute of its text (screen readers, hyphens)."""
    for row in rows:
        row.letter_language = mail_language(  # type: ignore[attr-defined]
            row.resident.preferred_language if row.resident is not None else ""
        )
    return rows
