"""Server-rendered pages: the case list and the case detail with its timeline.

Views parse and render only; every change goes through a service. A case the user may not see
is a 404, exactly as in the API.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cases import permissions, selectors
from cases.choices import Channel, Direction, Language, Nature, Priority
from cases.forms import ContactLogForm, NoteForm, TransitionForm
from cases.models import ActorType, CaseState, Department, EventKind
from cases.services import cases as case_services
from cases.services.actors import Actor
from cases.services.contact_log import ContactLogInput, contact_log
from cases.services.notifications import notifications_mark_read
from cases.services.transitions import (
    TRANSITION_ACTIONS,
    TRANSITION_LABELS,
    TRANSITIONS,
)
from cases.services.transitions import (
    case_transition as run_transition,
)
from common.exceptions import ApplicationError, NotFoundError, PermissionDeniedError


def _get_case(request: HttpRequest, reference: str):  # type: ignore[no-untyped-def]
    try:
        return selectors.case_get(user=request.user, reference=reference)  # type: ignore[arg-type]
    except NotFoundError:
        raise Http404(_("No such case.")) from None


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    filters = {
        "state": [s for s in request.GET.getlist("state") if s in CaseState.values],
        "channel": request.GET.get("channel")
        if request.GET.get("channel") in Channel.values
        else None,
        "q": request.GET.get("q", ""),
    }
    qs = selectors.case_list(user=request.user, filters=filters)  # type: ignore[arg-type]
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/list.html",
        {
            "page": page,
            "filters": filters,
            "states": CaseState.choices,
            "channels": Channel.choices,
        },
    )


@login_required
def case_detail(request: HttpRequest, reference: str) -> HttpResponse:
    case = _get_case(request, reference)
    case_services.case_record_view(actor=Actor.staff(request.user), case=case)  # type: ignore[arg-type]
    allowed = permissions.transitions_for(request.user, case)  # type: ignore[arg-type]
    panel = selectors.resident_panel(user=request.user, case=case)  # type: ignore[arg-type]
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "timeline_rows": _timeline_rows(selectors.case_timeline(case=case)),
            "transitions": [(name, TRANSITION_ACTIONS[name]) for name in allowed],
            "departments": Department.objects.filter(active=True, is_contact_center=False).order_by(
                "code"
            ),
            "note_form": NoteForm(),
            "state_labels": dict(CaseState.choices),
            "panel": panel,
            "duplicates": selectors.duplicate_suggestions(user=request.user, case=case)  # type: ignore[arg-type]
            if "merge" in allowed
            else [],
            "reply": _reply_context(request, case, panel),
        },
    )


def _timeline_rows(timeline: list[selectors.TimelineEntry]) -> list[dict[str, object]]:
    """The timeline as display strings, built in Python: a case view with a long history
    renders in a fraction of the time the template's per-entry lookups would take."""
    kinds = dict(EventKind.choices)
    states = dict(CaseState.choices)
    actors = dict(ActorType.choices)
    channels = dict(Channel.choices)
    directions = dict(Direction.choices)
    natures = dict(Nature.choices)
    failure = _("failure demand")
    rows = []
    for entry in timeline:
        event, contact = entry.event, entry.contact
        detail = ""
        if event.kind == EventKind.TRANSITION:
            detail = (
                f"{states.get(event.from_state, event.from_state)} → "
                f"{states.get(event.to_state, event.to_state)}"
            )
        if contact is not None:
            parts = [
                str(directions.get(contact.direction, "")),
                str(natures.get(contact.nature, "")),
            ]
            if contact.failure_demand:
                parts.append(str(failure))
            detail = f"{channels.get(contact.channel, contact.channel)} ({', '.join(parts)})"
            if contact.summary:
                detail += f" – {contact.summary}"
        local = timezone.localtime(entry.at)
        rows.append(
            {
                "kind": event.kind,
                "iso": local.isoformat(),
                "when": date_format(local, "SHORT_DATETIME_FORMAT"),
                "label": kinds.get(event.kind, event.kind),
                "detail": detail,
                "actor": event.actor.username if event.actor else actors.get(event.actor_type, ""),
                "public": event.kind == EventKind.NOTE and bool((event.data or {}).get("public")),
                "reason": event.reason,
            }
        )
    return rows


def _reply_context(request: HttpRequest, case, panel):  # type: ignore[no-untyped-def]
    """The reply form: the channels the resident can be answered on, canned responses in the
    case's language, and the chosen canned text (``?canned=<id>``, so it works without JS)."""
    answerable = case.is_active or case.state in (
        CaseState.RESOLVED,
        CaseState.RESOLVED_FIRST_CONTACT,
    )
    if not answerable or not permissions.owns_case(request.user, case):  # type: ignore[arg-type]
        return None
    canned = selectors.canned_responses_for(case=case)
    chosen = request.GET.get("canned", "")
    text = next((c.body for c in canned if str(c.pk) == chosen), "")
    channels = []
    if panel is not None:
        if panel.emails:
            channels.append((Channel.EMAIL, Channel.EMAIL.label))
        if panel.phones:
            channels.append((Channel.SMS, Channel.SMS.label))
    preferred = case.origin_channel if case.origin_channel in (Channel.EMAIL, Channel.SMS) else ""
    return {"canned": canned, "text": text, "channels": channels, "preferred": preferred}


@login_required
@require_POST
def case_reply(request: HttpRequest, reference: str) -> HttpResponse:
    """Answer the resident by e-mail or SMS from the case view."""
    from channels_app.email.replies import case_reply_email
    from channels_app.sms.replies import case_reply_sms

    case = _get_case(request, reference)
    channel = request.POST.get("channel", "")
    send = {Channel.EMAIL: case_reply_email, Channel.SMS: case_reply_sms}.get(channel)  # type: ignore[call-overload]
    if send is None:
        messages.error(request, _("Choose e-mail or SMS."))
        return redirect("cases:detail", reference=reference)
    try:
        send(actor=Actor.staff(request.user), case_id=case.pk, body=request.POST.get("body", ""))  # type: ignore[arg-type]
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Reply sent to the resident."))
    return redirect("cases:detail", reference=reference)


@login_required
@require_POST
def case_transition(request: HttpRequest, reference: str, name: str) -> HttpResponse:
    case = _get_case(request, reference)
    if name not in TRANSITIONS:
        raise Http404
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the form: %(errors)s") % {"errors": form.errors.as_text()})
        return redirect("cases:detail", reference=reference)
    kwargs: dict = {
        "expected_state": form.cleaned_data["expected_state"] or None,
        "reason": form.cleaned_data["reason"],
        "department": form.cleaned_data["department"],
    }
    if name == "merge":
        try:
            kwargs["into_case_id"] = selectors.case_get(
                user=request.user,  # type: ignore[arg-type]
                reference=form.cleaned_data["into"].strip(),
            ).pk
        except NotFoundError:
            messages.error(request, _("No such case to merge into."))
            return redirect("cases:detail", reference=reference)
    try:
        run_transition(name, actor=Actor.staff(request.user), case_id=case.pk, **kwargs)  # type: ignore[arg-type]
    except NotFoundError:
        raise Http404(_("No such case.")) from None
    except ApplicationError as exc:
        details = " ".join(f"{m}" for msgs in exc.fields.values() for m in msgs)
        messages.error(request, f"{exc.message} {details}".strip())
        return redirect("cases:detail", reference=reference)
    messages.success(
        request,
        _("Case %(ref)s: %(action)s.") % {"ref": reference, "action": TRANSITION_LABELS[name]},
    )
    return redirect("cases:detail", reference=reference)


@login_required
@require_POST
def case_note(request: HttpRequest, reference: str) -> HttpResponse:
    case = _get_case(request, reference)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            case_services.case_add_note(
                actor=Actor.staff(request.user),  # type: ignore[arg-type]
                case_id=case.pk,
                text=form.cleaned_data["text"],
                public=form.cleaned_data["public"],
            )
            messages.success(request, _("Note added."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("A note cannot be empty."))
    return redirect("cases:detail", reference=reference)


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """The signed-in member of staff's notifications (escalations); POST marks them read."""
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("id") if v.isdigit()]
        changed = notifications_mark_read(
            user=request.user,  # type: ignore[arg-type]
            ids=None if request.POST.get("all") else ids,
        )
        messages.success(
            request,
            ngettext("%(n)d notification marked read.", "%(n)d notifications marked read.", changed)
            % {"n": changed},
        )
        return redirect("cases:notifications")
    items = selectors.notifications_for(user=request.user)  # type: ignore[arg-type]
    return render(request, "cases/notifications.html", {"items": items})


@login_required
def workspace(request: HttpRequest) -> HttpResponse:
    """The work queues: tabs with counts, filters, and the cases of the chosen queue.

    The list refreshes itself with htmx (``?fragment=1`` returns only the list) and works
    without JavaScript as a plain page.
    """
    user = request.user
    names = selectors.queues_for(user)  # type: ignore[arg-type]
    if not names:
        raise Http404(_("You have no work queues."))
    now = timezone.now()
    counts = None
    name = request.GET.get("queue", "")
    if not name:
        # Start where the work is: one's own cases, else the next queue (the contact center's
        # queue for an agent, the department desk's for a handler's own empty list).
        counts = selectors.queue_counts(user=user, now=now)  # type: ignore[arg-type]
        name = next((n for n in names if counts.get(n)), names[0])
    if name not in names:
        raise Http404(_("No such queue."))
    filters = {
        key: request.GET.get(key, "").strip()
        for key in selectors.QUEUE_FILTERS
        if request.GET.get(key, "").strip()
    }
    qs = selectors.queue_cases(user=user, name=name, now=now, filters=filters)  # type: ignore[arg-type]
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    soon = now + datetime.timedelta(hours=settings.QUEUE_AT_RISK_HOURS)
    # Display strings made once here: a template lookup per cell is most of a page's time.
    channel_labels, state_labels = dict(Channel.choices), dict(CaseState.choices)
    priority_labels = dict(Priority.choices)
    for case in page:
        case.url = f"/cases/{case.reference}/"
        case.channel_label = channel_labels.get(case.origin_channel, case.origin_channel)
        case.state_label = state_labels.get(case.state, case.state)
        case.priority_label = (
            priority_labels[case.priority] if case.priority in ("urgent", "high") else ""
        )
        case.due = _next_deadline(case)
        case.overdue = case.due is not None and case.due < now
        case.due_soon = case.due is not None and not case.overdue and case.due <= soon
    context = {
        "queue": name,
        "page": page,
        "filters": filters,
        "now": now,
        "query": urlencode({"queue": name, **filters}),
    }
    if request.GET.get("fragment"):
        return render(request, "cases/_queue_list.html", context)
    if counts is None:
        counts = selectors.queue_counts(user=user, now=now)  # type: ignore[arg-type]
    context.update(
        tabs=[(n, selectors.Queue.LABELS[n], counts.get(n, 0)) for n in names],
        channels=Channel.choices,
        case_languages=Language.choices,
        categories=selectors.queue_filter_categories(),
        departments=Department.objects.filter(active=True).order_by("code"),
    )
    return render(request, "cases/workspace.html", context)


@login_required
@require_POST
def case_take(request: HttpRequest, reference: str) -> HttpResponse:
    case = _get_case(request, reference)
    try:
        case_services.case_take(actor=Actor.staff(request.user), case_id=case.pk)  # type: ignore[arg-type]
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("You have taken case %(ref)s.") % {"ref": case.reference})
    back = request.POST.get("next", "")
    if back.startswith("/cases/queue/"):
        return redirect(back)
    return redirect("cases:detail", reference=reference)


def _next_deadline(case):  # type: ignore[no-untyped-def]
    """The deadline that matters now: accepting while forwarded, else answering (social
    media) while at the contact center, else resolving."""
    if case.state == CaseState.FORWARDED and case.accept_due_at:
        return case.accept_due_at
    if case.respond_due_at and case.state in (CaseState.NEW, CaseState.OPEN):
        return case.respond_due_at
    return case.resolve_due_at


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Staff with work queues start in them; others (communications) at the case list."""
    if selectors.queues_for(request.user):  # type: ignore[arg-type]
        return redirect("cases:workspace")
    return redirect("cases:list")


@login_required
def supervisor(request: HttpRequest) -> HttpResponse:
    """The day as it happens, for supervisors; refreshes itself (htmx, ``?fragment=1``)."""
    try:
        overview = selectors.supervisor_overview(user=request.user, now=timezone.now())  # type: ignore[arg-type]
    except PermissionDeniedError:
        raise Http404(_("Only supervisors see the overview.")) from None
    template = "cases/_supervisor.html" if request.GET.get("fragment") else "cases/supervisor.html"
    columns = [
        (name, selectors.Queue.LABELS[name])
        for name in selectors.queues_for(request.user)  # type: ignore[arg-type]
        if name != selectors.Queue.MINE
    ]
    return render(request, template, {"o": overview, "columns": columns})


@login_required
def contact_log_view(request: HttpRequest) -> HttpResponse:
    """Log a phone call, a visit or a letter in one form; one save."""
    if not permissions.is_contact_center_staff(request.user):  # type: ignore[arg-type]
        raise Http404(_("Only the contact center logs contacts."))
    form = ContactLogForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        data = ContactLogInput(
            channel=d["channel"],
            subject=d["subject"] or "",
            description=d["description"] or "",
            category=d["category"],
            nature=d["nature"],
            failure_demand=d["failure_demand"],
            resolved_at_first_contact=d["resolved_at_first_contact"],
            duration_seconds=d["duration_minutes"] * 60
            if d["duration_minutes"] is not None
            else None,
            summary=d["summary"] or "",
            name=d["name"] or "",
            phone=d["phone"] or "",
            email=d["email"] or "",
            personal_id=d["personal_id"] or "",
            case_reference=d["case_reference"] or "",
        )
        try:
            case, _contact = contact_log(
                actor=Actor.staff(request.user),  # type: ignore[arg-type]
                data=data,
                scan=d["scan"],
            )
        except NotFoundError as exc:
            form.add_error("case_reference" if data.case_reference else None, exc.message)
        except ApplicationError as exc:
            for field, errors in (exc.fields or {}).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Contact logged on case %(ref)s.") % {"ref": case.reference}
            )
            return redirect("cases:detail", reference=case.reference)
    if form.errors:
        form.describe_errors()
    return render(request, "cases/log.html", {"form": form}, status=400 if form.errors else 200)
