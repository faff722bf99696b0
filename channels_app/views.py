"""The quarantine page: inbound items that could not be processed, for supervisors to requeue.

Intake is the contact center's responsibility, so contact-center supervisors and administrators
see it; everyone else gets a 404 like any page they may not know about.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.models import Role
from channels_app.intake import inbound_requeue
from channels_app.models import InboundMessage, InboundStatus


def _ensure_supervisor(request: HttpRequest) -> None:
    user = request.user
    allowed = user.is_administrator or (user.role == Role.SUPERVISOR and user.in_contact_center)  # type: ignore[union-attr]
    if not allowed:
        raise Http404


@login_required
def quarantine(request: HttpRequest) -> HttpResponse:
    _ensure_supervisor(request)
    items = (
        InboundMessage.objects.filter(status=InboundStatus.QUARANTINED)
        .defer("raw", "payload")  # raw messages can be megabytes; the list needs neither
        .order_by("-received_at", "-id")
    )
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "channels/quarantine.html", {"page": page})


@login_required
@require_POST
def quarantine_requeue(request: HttpRequest) -> HttpResponse:
    _ensure_supervisor(request)
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    n = inbound_requeue(message_ids=ids)
    messages.success(
        request,
        ngettext("%(n)d item queued again.", "%(n)d items queued again.", n) % {"n": n},
    )
    return redirect("intake:quarantine")
