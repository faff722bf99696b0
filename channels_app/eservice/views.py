"""The public e-service pages: the list of forms, one form per category, the receipt.

No login, no session: the language comes from ``?lang=`` (else the browser's), the double-submit
guard is a token in the form itself, bots are kept out by a honeypot field and a rate limit.
Views parse and render; ``services`` records and processes.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import re
from collections.abc import Callable
from functools import wraps
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from cases.models import Category, CategoryField
from channels_app.eservice import services
from channels_app.eservice.fields import checked_files, display_value, validate_field_values
from channels_app.eservice.forms import (
    EXTRA_PREFIX,
    HONEYPOT,
    TOKEN_RE,
    CommonForm,
    ContactWay,
    new_token,
)
from channels_app.eservice.widgets import common_widgets, extra_widgets
from channels_app.models import InboundStatus
from common.http import client_ip

LANGUAGES = (("sv", "Svenska"), ("da", "Dansk"), ("en", "English"))
LANGUAGE_CODES = tuple(code for code, _name in LANGUAGES)
HONEYPOT_KEEP_CHARS = 2000
# Our token, or our token and a content digest (a changed re-post, see category_form).
RECEIPT_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,100}$")
# The form page's language buttons (see _switch_language) and the flag of a page with errors.
SWITCH_LANG = "switch_lang"
ERRORS_SHOWN = "errors_shown"


def _language(request: HttpRequest) -> str:
    # A language button on the form page posts the form with switch_lang: that choice wins
    # over the page's own ?lang= (the form's action) and its hidden lang field.
    switch = request.POST.get(SWITCH_LANG, "") if request.method == "POST" else ""
    asked = (
        switch
        if switch in LANGUAGE_CODES
        else (request.GET.get("lang") or request.POST.get("lang") or "")
    )
    if asked in LANGUAGE_CODES:
        return asked
    current = (getattr(request, "LANGUAGE_CODE", "") or settings.LANGUAGE_CODE)[:2]
    return current if current in LANGUAGE_CODES else "sv"


def public(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run the view and render its page in the resident's language; never a Referer carrying
    a receipt token elsewhere."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        lang = _language(request)
        with translation.override(lang):
            request.LANGUAGE_CODE = lang  # type: ignore[attr-defined]
            response = view(request, *args, lang=lang, **kwargs)
        response.headers["Content-Language"] = lang
        response.headers["Referrer-Policy"] = "no-referrer"
        # Never in a shared cache (a cached form would hand one token to many residents), but
        # kept by the browser so that "back" shows the form as the resident left it.
        response.headers.setdefault("Cache-Control", "private, no-cache")
        return response

    return wrapper


def _page(
    request: HttpRequest, template: str, lang: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    switch = [
        {
            "code": code,
            "name": name,
            "url": f"{request.path}?{urlencode({'lang': code})}",
            "current": code == lang,
        }
        for code, name in LANGUAGES
    ]
    return render(
        request,
        template,
        {"lang": lang, "languages": switch, "list_url": _list_url(lang), **context},
        status=status,
    )


def _list_url(lang: str) -> str:
    return f"{reverse('eservice:list')}?lang={lang}"


def _not_found(request: HttpRequest, lang: str) -> HttpResponse:
    return _page(request, "eservice/not_found.html", lang, {}, status=404)


# --- The list ----------------------------------------------------------------------------------
@require_GET
@public
def category_list(request: HttpRequest, *, lang: str) -> HttpResponse:
    categories = sorted(
        services.categories_valid_today(), key=lambda c: (c.department.name, c.name)
    )
    groups = [
        {"department": department, "categories": list(items)}
        for department, items in groupby(categories, key=lambda c: c.department)
    ]
    return _page(request, "eservice/list.html", lang, {"groups": groups})


# --- The form ----------------------------------------------------------------------------------
# No CSRF check: the form acts with no one's authority (no login, no session), so a forged post
# can do nothing a bot could not do directly, while a resident whose browser refuses cookies
# would otherwise lose their text to a 403 page. The rate limit and honeypot still apply.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@public
def category_form(request: HttpRequest, code: str, *, lang: str) -> HttpResponse:
    category = services.category_for_code(code)
    if category is None:
        return _not_found(request, lang)
    if request.method != "POST":
        return _render_form(request, category, lang, token=new_token(), form=CommonForm())
    limit = services.rate_limit_hit(ip=_client_ip(request))
    if not limit.allowed:
        return _rate_limited(request, lang, limit.retry_at)
    token = request.POST.get("token", "")
    if not TOKEN_RE.match(token):
        # A post without our token (an old page, a script) is still accepted; it just cannot be
        # deduplicated.
        token = new_token()
    if request.POST.get(SWITCH_LANG) in LANGUAGE_CODES:
        return _switch_language(request, category, lang, token=token)
    if request.POST.get(HONEYPOT, "").strip():
        message, _created = services.submission_record(
            code=category.code, token=token, payload=_honeypot_payload(request, category, lang)
        )
        return _to_receipt(category, message.external_id, lang)

    form = CommonForm(request.POST)
    values, files = _posted_fields(request, category)
    cleaned, errors = validate_field_values(category, values, files)
    if not form.is_valid() or errors:
        return _render_form(
            request,
            category,
            lang,
            token=token,
            form=form,
            values=values,
            errors=errors,
            files_given=any(files.values()),
        )
    payload = _payload(request, category, lang, form.cleaned_data, cleaned)
    accepted = checked_files(category, files)
    message, created = services.submission_record(
        code=category.code, token=token, payload=payload, files=accepted
    )
    if not created and message.payload.get("digest") != payload["digest"]:
        # The same form posted again with other content: the resident went back and changed
        # something. That is a new submission, not a double click; keep it under its own key.
        message, _created = services.submission_record(
            code=category.code,
            token=f"{token}-{payload['digest'][:16]}",
            payload=payload,
            files=accepted,
        )
    return _to_receipt(category, message.external_id, lang)


def _posted_fields(
    request: HttpRequest, category: Category
) -> tuple[dict[str, list[str]], dict[str, list[Any]]]:
    """The posted values and files of the category's extra fields, by field code."""
    fields = list(category.fields.all())
    values = {f.code: request.POST.getlist(EXTRA_PREFIX + f.code) for f in fields}
    files = {
        f.code: request.FILES.getlist(EXTRA_PREFIX + f.code)
        for f in fields
        if f.kind == CategoryField.Kind.ATTACHMENT
    }
    return values, files


def _switch_language(
    request: HttpRequest, category: Category, lang: str, *, token: str
) -> HttpResponse:
    """The resident pressed a language button on the form page: the same form again, in that
    language, with everything they wrote. Nothing is sent or recorded.

    The buttons belong to the form (a link would lose the text: the browser does not carry a
    form's fields to another URL). If the page they left showed errors, this one shows them
    too, now in a language they read; a form nobody has sent yet shows none. Files cannot be
    put back into a file field, so a chosen file is asked for again, as after any error.
    """
    form = CommonForm(request.POST)
    values, files = _posted_fields(request, category)
    show_errors = request.POST.get(ERRORS_SHOWN) == "1"
    errors: dict[str, list[str]] = {}
    if show_errors:
        _cleaned, errors = validate_field_values(category, values, files)
    return _render_form(
        request,
        category,
        lang,
        token=token,
        form=form,
        values=values,
        errors=errors,
        files_given=any(files.values()),
        show_errors=show_errors,
    )


def _client_ip(request: HttpRequest) -> str:
    # Behind our own reverse proxies (TRUSTED_PROXIES) the client is in X-Forwarded-For; from
    # anyone else that header is ignored, or a bot would pick a new address per post.
    return client_ip(request) or "unknown"


def _client(request: HttpRequest) -> dict[str, str]:
    return {
        "ip_hash": services.client_hash(_client_ip(request)),
        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
    }


def _category_snapshot(category: Category) -> dict[str, Any]:
    return {"id": category.pk, "code": category.code, "name": category.name}


def _payload(
    request: HttpRequest,
    category: Category,
    lang: str,
    common: dict[str, Any],
    cleaned: dict[str, Any],
) -> dict[str, Any]:
    display = [
        [f.label, display_value(f, cleaned[f.code])]
        for f in category.fields.all()
        if f.code in cleaned
    ]
    way = common.get("contact_preference", "")
    content = {
        "description": common["description"].strip(),
        "name": common.get("name", "").strip(),
        "email": common.get("email", ""),
        "phone": common.get("phone", ""),
        "address": common.get("address", "").strip(),
        "contact_preference": way,
        "fields": cleaned,
    }
    digest = hashlib.sha256(
        json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
    return {
        "version": 1,
        "lang": lang,
        "category": _category_snapshot(category),
        **content,
        "contact_preference_label": dict(ContactWay.choices()).get(way, ""),
        "display": display,
        "digest": digest,
        "client": _client(request),
        "honeypot": False,
    }


def _honeypot_payload(request: HttpRequest, category: Category, lang: str) -> dict[str, Any]:
    posted = {
        key: [value[:HONEYPOT_KEEP_CHARS] for value in request.POST.getlist(key)]
        for key in list(request.POST)[:50]
    }
    return {
        "version": 1,
        "lang": lang,
        "category": _category_snapshot(category),
        "honeypot": True,
        "post": posted,
        "files": [f.name for files in request.FILES.lists() for f in files[1]][:20],
        "client": _client(request),
    }


def _render_form(
    request: HttpRequest,
    category: Category,
    lang: str,
    *,
    token: str,
    form: CommonForm,
    values: dict[str, list[str]] | None = None,
    errors: dict[str, list[str]] | None = None,
    files_given: bool = False,
    show_errors: bool = True,
) -> HttpResponse:
    extra = extra_widgets(category, values or {}, errors or {}, files_given=files_given)
    common = common_widgets(form, show_errors=show_errors)
    summary = [
        {"href": f"#{w.first_id}", "label": w.label, "message": message}
        for w in [*extra, *common]
        for message in w.errors
    ]
    title = category.name
    if summary:
        title = _("Error: %(title)s") % {"title": title}
    return _page(
        request,
        "eservice/form.html",
        lang,
        {
            "category": category,
            "title": title,
            "token": token,
            "extra": extra,
            "common": common,
            "summary": summary,
            "honeypot": HONEYPOT,
            "action": f"{request.path}?lang={lang}",
            "has_files": any(w.kind == "attachment" for w in extra),
            "switch_lang": SWITCH_LANG,
            "errors_shown": ERRORS_SHOWN,
        },
    )


def _rate_limited(request: HttpRequest, lang: str, retry_at: float) -> HttpResponse:
    at = datetime.datetime.fromtimestamp(retry_at, tz=datetime.UTC)
    seconds = max(1, math.ceil(retry_at - timezone.now().timestamp()))
    response = _page(
        request,
        "eservice/rate_limited.html",
        lang,
        {"retry_at": timezone.localtime(at), "minutes": math.ceil(seconds / 60)},
        status=429,
    )
    response.headers["Retry-After"] = str(seconds)
    return response


def _to_receipt(category: Category, token: str, lang: str) -> HttpResponse:
    # 303: the browser fetches the receipt with GET, so reloading it never posts again.
    url = reverse("eservice:receipt", kwargs={"code": category.code, "token": token})
    return HttpResponseRedirect(f"{url}?lang={lang}", status=303)


# --- The receipt -------------------------------------------------------------------------------
@require_GET
@public
def receipt(request: HttpRequest, code: str, token: str, *, lang: str) -> HttpResponse:
    """Only what the token's holder needs: received, the reference, what happens next. The
    token is 32 random characters, and the page shows nothing the resident wrote."""
    if not RECEIPT_TOKEN_RE.match(token):
        return _not_found(request, lang)
    message = services.submission_get(code=code, token=token)
    if message is None:
        return _not_found(request, lang)
    category = services.category_for_code(code)
    snapshot = message.payload.get("category") or {}
    name = category.name if category is not None else snapshot.get("name", code)
    case = message.case if message.status == InboundStatus.PROCESSED else None
    days = _expected_days(case) if case is not None else None
    context = {
        "title": _("We have received your errand"),
        "category_name": name if not (category and category.sensitive) else "",
        "case": case,
        "receipt_number": f"E-{message.pk}",
        "neutral": message.status == InboundStatus.IGNORED,
        "expected": (
            ngettext(
                "We usually handle this kind of errand within %(days)d working day.",
                "We usually handle this kind of errand within %(days)d working days.",
                days,
            )
            % {"days": days}
            if days
            else ""
        ),
        "email_given": bool(message.payload.get("email")),
        "form_url": f"{reverse('eservice:form', kwargs={'code': code})}?lang={lang}",
    }
    response = _page(request, "eservice/receipt.html", lang, context)
    response.headers["Cache-Control"] = "no-store"
    return response


def _expected_days(case: Any) -> int | None:
    """Working days from the category's service agreement (8 business hours a day)."""
    from cases.services.deadlines import agreement_for

    category = case.category
    if category is None:
        return None
    agreement = agreement_for(
        category=category, department=category.department, on=timezone.localdate()
    )
    if agreement is None or not agreement.resolve_within_hours:
        return None
    return max(1, math.ceil(float(agreement.resolve_within_hours) / 8))
