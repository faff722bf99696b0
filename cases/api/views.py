"""Small API views: parse input, call one service or selector, render output.

Errors come from services as ``common.exceptions`` and are rendered by
``common.api.exception_handler`` as ``{"message", "code", "fields"}`` with 400/403/404/409.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import permissions, selectors
from cases.api import serializers as s
from cases.models import Case, Resident
from cases.services import cases as case_services
from cases.services import residents as resident_services
from cases.services.actors import Actor
from cases.services.transitions import case_transition
from common.api import Pagination
from common.exceptions import ApplicationError, NotFoundError, PermissionDeniedError


def _detail(case: Case, user: Any) -> dict[str, Any]:
    data = s.CaseDetailOutput(
        {
            **{
                f: getattr(case, f)
                for f in (
                    "reference",
                    "subject",
                    "state",
                    "category",
                    "department",
                    "assignee",
                    "resident",
                    "origin_channel",
                    "priority",
                    "created_at",
                    "accept_due_at",
                    "resolve_due_at",
                    "description",
                    "complexity_level",
                    "case_type",
                    "language",
                    "resolved_at_first_contact",
                    "merged_into",
                    "paused_at",
                    "resolved_at",
                    "closed_at",
                )
            },
            "get_state_display": case.get_state_display(),
            "allowed_transitions": permissions.transitions_for(user, case),
            "timeline": selectors.case_timeline(case=case),
        }
    ).data
    return data


class CaseListCreateApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(name, str, description=desc)
            for name, desc in (
                ("state", "Filter by state (repeatable)."),
                ("department", "Department code."),
                ("category", "Category code."),
                ("channel", "Origin channel."),
                ("assignee", "Username."),
                ("resident", "Resident id."),
                ("created_from", "ISO date-time, inclusive."),
                ("created_to", "ISO date-time, exclusive."),
                ("q", "Reference or words of the subject."),
                ("page", "Page number."),
            )
        ],
        responses=s.CaseListOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        params = {k: v for k, v in request.query_params.items() if k != "state"}
        params["state"] = request.query_params.getlist("state")
        data = s.CaseListFilterInput(data=params)
        data.is_valid(raise_exception=True)
        filters = data.validated_data
        qs = selectors.case_list(user=request.user, filters=filters)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.CaseListOutput(page, many=True).data)

    @extend_schema(request=s.CaseCreateInput, responses={201: s.CaseDetailOutput})
    def post(self, request: Request) -> Response:
        data = s.CaseCreateInput(
            data=request.data,
            resident_queryset=selectors.resident_visible_queryset(user=request.user),
        )
        data.is_valid(raise_exception=True)
        v = data.validated_data
        case = case_services.case_create(
            actor=Actor.staff(request.user),
            subject=v["subject"],
            description=v["description"],
            resident=v.get("resident"),
            category=v.get("category"),
            complexity_level=v.get("complexity_level"),
            case_type=v["case_type"],
            priority=v["priority"],
            language=v["language"],
            contact=case_services.ContactInput(**v["contact"]),
        )
        case = selectors.case_get(user=request.user, reference=case.reference)
        return Response(_detail(case, request.user), status=status.HTTP_201_CREATED)


class CaseDetailApi(APIView):
    @extend_schema(responses=s.CaseDetailOutput)
    def get(self, request: Request, reference: str) -> Response:
        case = selectors.case_get(user=request.user, reference=reference)
        case_services.case_record_view(actor=Actor.staff(request.user), case=case)
        return Response(_detail(case, request.user))


class CaseContactApi(APIView):
    @extend_schema(request=s.ContactInput, responses={201: s.ContactOutput})
    def post(self, request: Request, reference: str) -> Response:
        case = selectors.case_get(user=request.user, reference=reference)
        data = s.ContactInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact = case_services.case_add_contact(
            actor=Actor.staff(request.user),
            case_id=case.pk,
            contact=case_services.ContactInput(**data.validated_data),
        )
        return Response(s.ContactOutput(contact).data, status=status.HTTP_201_CREATED)


class CaseNoteApi(APIView):
    @extend_schema(request=s.NoteInput, responses={201: None})
    def post(self, request: Request, reference: str) -> Response:
        case = selectors.case_get(user=request.user, reference=reference)
        data = s.NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        case_services.case_add_note(
            actor=Actor.staff(request.user),
            case_id=case.pk,
            text=data.validated_data["text"],
            public=data.validated_data["public"],
        )
        return Response(status=status.HTTP_201_CREATED)


class CaseAssignApi(APIView):
    @extend_schema(request=s.AssignInput, responses=s.CaseDetailOutput)
    def post(self, request: Request, reference: str) -> Response:
        case = selectors.case_get(user=request.user, reference=reference)
        data = s.AssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not permissions.owns_case(request.user, case):
            raise PermissionDeniedError(
                _("Only the unit that holds case %(ref)s can assign it.") % {"ref": case.reference}
            )
        username = data.validated_data["assignee"]
        assignee = None
        if username:
            assignee = get_user_model().objects.filter(username=username, is_active=True).first()
            if assignee is None or not permissions.owns_case(assignee, case):
                # One message for "no such user" and "not in this unit": usernames stay private.
                raise ApplicationError(
                    _("This person cannot be assigned the case."),
                    fields={
                        "assignee": [
                            _("Choose someone who works for the unit that holds the case.")
                        ]
                    },
                )
        case_services.case_assign(
            actor=Actor.staff(request.user), case_id=case.pk, assignee=assignee
        )
        return Response(
            _detail(selectors.case_get(user=request.user, reference=reference), request.user)
        )


class CaseClassifyApi(APIView):
    @extend_schema(request=s.ClassifyInput, responses=s.CaseDetailOutput)
    def post(self, request: Request, reference: str) -> Response:
        case = selectors.case_get(user=request.user, reference=reference)
        data = s.ClassifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        case_services.case_classify(
            actor=Actor.staff(request.user), case_id=case.pk, **data.validated_data
        )
        return Response(
            _detail(selectors.case_get(user=request.user, reference=reference), request.user)
        )


class CaseTransitionApi(APIView):
    """``POST /api/v1/cases/{reference}/{transition}/``: one endpoint per transition."""

    transition: str = ""
    input_serializer: type[s.TransitionInput] = s.TransitionInput

    def post(self, request: Request, reference: str) -> Response:
        case = selectors.case_get(user=request.user, reference=reference)
        # 403 before any input is looked at: a refusal must not depend on (or reveal) the input.
        permissions.ensure_may_transition(request.user, case, self.transition)
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        kwargs = dict(data.validated_data)
        kwargs["expected_state"] = kwargs.get("expected_state") or None
        if "into" in kwargs:
            try:
                kwargs["into_case_id"] = selectors.case_get(
                    user=request.user, reference=kwargs.pop("into")
                ).pk
            except NotFoundError:
                raise ApplicationError(
                    _("No such case to merge into."),
                    fields={"into": [_("Unknown case reference.")]},
                ) from None
        case_transition(self.transition, actor=Actor.staff(request.user), case_id=case.pk, **kwargs)
        return Response(
            _detail(selectors.case_get(user=request.user, reference=reference), request.user)
        )


def transition_view(name: str) -> Any:
    """A view class per transition, each with its own ``post`` so each gets its own schema."""
    serializer = {"forward": s.ForwardInput, "merge": s.MergeInput}.get(name, s.TransitionInput)

    @extend_schema(
        request=serializer,
        responses=s.CaseDetailOutput,
        operation_id=f"cases_{name}",
        summary=name.replace("_", " ").capitalize(),
    )
    def post(self: CaseTransitionApi, request: Request, reference: str) -> Response:
        return CaseTransitionApi.post(self, request, reference)

    view = type(
        f"Case{name.title().replace('_', '')}Api",
        (CaseTransitionApi,),
        {"transition": name, "input_serializer": serializer, "post": post},
    )
    return view.as_view()


class ResidentListCreateApi(APIView):
    @extend_schema(parameters=[s.ResidentSearchInput], responses=s.ResidentListOutput(many=True))
    def get(self, request: Request) -> Response:
        data = s.ResidentSearchInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        qs = selectors.resident_find(user=request.user, **data.validated_data)
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.ResidentListOutput(page, many=True).data)

    @extend_schema(request=s.ResidentCreateInput, responses={201: s.ResidentOutput})
    def post(self, request: Request) -> Response:
        data = s.ResidentCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        resident = resident_services.resident_create(
            actor=Actor.staff(request.user), **data.validated_data
        )
        resident = Resident.objects.prefetch_related("emails", "phones").get(pk=resident.pk)
        return Response(s.ResidentOutput(resident).data, status=status.HTTP_201_CREATED)


class ResidentDetailApi(APIView):
    @extend_schema(responses=s.ResidentOutput)
    def get(self, request: Request, pk: int) -> Response:
        resident = (
            selectors.resident_visible_queryset(user=request.user)
            .prefetch_related("emails", "phones")
            .filter(pk=pk)
            .first()
        )
        if resident is None:
            raise NotFoundError(_("No such resident."))
        return Response(s.ResidentOutput(resident).data)
