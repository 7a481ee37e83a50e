"""API of the scheduling meeting: the meetings you may read, with their agenda and decisions; the
secretariat drafts a month's agenda, edits its items (move, drop, restore, annotate, add) and its
details, publishes it and records the minutes. Every change takes the meeting's ``version`` as
last read: a stale one answers 409.
"""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import permissions as drf_permissions
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from cases import permissions as case_permissions
from cases.api import text
from cases.models import KeyProject, Person, Unit
from workflow.engine.api.serializers import ProjectRefSerializer, RefSerializer

from .. import agenda, meetings, periods, selectors
from ..models import AgendaItem, AgendaSection, Decision, Meeting

MAX_ID = 2**31 - 1


class MeetingAccess(drf_permissions.BasePermission):
    """Meetings are for government people."""

    def has_permission(self, request, view):
        return case_permissions.is_internal(request.user)


class IdField(serializers.PrimaryKeyRelatedField):
    """A primary key that says "does not exist" for ids no record can have, rather than failing."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            number = int(data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if not 0 < number <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(number)


def _ref(obj):
    return {"id": obj.pk, "name": obj.name} if obj is not None else None


def _project(project):
    return {"id": project.pk, "code": project.code, "name": project.name} if project is not None else None


class AgendaItemSerializer(serializers.ModelSerializer):
    section_label = serializers.CharField(source="get_section_display", read_only=True)
    project = serializers.SerializerMethodField()

    class Meta:
        model = AgendaItem
        fields = [
            "id",
            "position",
            "section",
            "section_label",
            "title",
            "detail",
            "note",
            "project",
            "source",
            "dropped",
            "minutes",
        ]

    @extend_schema_field(ProjectRefSerializer(allow_null=True))
    def get_project(self, item):
        return _project(item.project)


class DecisionSerializer(serializers.ModelSerializer):
    state = serializers.CharField(read_only=True, help_text="open, done or dropped")
    owner = serializers.SerializerMethodField()
    unit = serializers.SerializerMethodField()
    project = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "id",
            "item",
            "project",
            "text",
            "owner",
            "unit",
            "working_days",
            "due_at",
            "state",
            "report",
            "done_at",
            "created_at",
        ]

    @extend_schema_field(RefSerializer)
    def get_owner(self, decision):
        return _ref(decision.owner)

    @extend_schema_field(RefSerializer)
    def get_unit(self, decision):
        return _ref(decision.unit)

    @extend_schema_field(ProjectRefSerializer(allow_null=True))
    def get_project(self, decision):
        return _project(decision.project)


class MeetingSerializer(serializers.ModelSerializer):
    state = serializers.CharField(read_only=True, help_text="draft, published or minuted")
    chair = serializers.SerializerMethodField()
    item_count = serializers.IntegerField(read_only=True, default=0)
    decision_count = serializers.IntegerField(read_only=True, default=0)
    open_decision_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Meeting
        fields = [
            "id",
            "month",
            "number",
            "title",
            "scheduled_at",
            "duration_minutes",
            "place",
            "chair",
            "state",
            "version",
            "drafted_at",
            "published_at",
            "minuted_at",
            "item_count",
            "decision_count",
            "open_decision_count",
        ]

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_chair(self, meeting):
        return _ref(meeting.chair)

    def to_representation(self, meeting):
        data = super().to_representation(meeting)
        for name in ("item_count", "decision_count", "open_decision_count"):
            data[name] = getattr(meeting, name, None) or 0
        return data


class MeetingDetailSerializer(MeetingSerializer):
    attendees = serializers.SerializerMethodField()
    attending_units = serializers.SerializerMethodField()
    items = AgendaItemSerializer(many=True, read_only=True)
    decisions = DecisionSerializer(many=True, read_only=True)

    class Meta(MeetingSerializer.Meta):
        fields = [*MeetingSerializer.Meta.fields, "attendees", "attending_units", "items", "decisions"]

    @extend_schema_field(RefSerializer(many=True))
    def get_attendees(self, meeting):
        return [_ref(person) for person in meeting.attendees.all()]

    @extend_schema_field(RefSerializer(many=True))
    def get_attending_units(self, meeting):
        return [_ref(unit) for unit in meeting.attending_units.all()]

    def to_representation(self, meeting):
        data = super().to_representation(meeting)
        data["item_count"] = sum(1 for item in meeting.items.all() if not item.dropped)
        decisions = list(meeting.decisions.all())
        data["decision_count"] = len(decisions)
        data["open_decision_count"] = sum(1 for d in decisions if d.state == Decision.State.OPEN)
        return data


# Inputs


class DraftSerializer(text.Serializer):
    month = serializers.RegexField(
        r"^\d{4}-(0[1-9]|1[0-2])$", help_text="YYYY-MM: the month the meeting reviews, a month that has begun."
    )

    def validate_month(self, value):
        month = periods.begun_month(value)
        if month is None:
            raise serializers.ValidationError(_("Choose a month that has begun, as YYYY-MM."))
        return month


class VersionSerializer(text.Serializer):
    version = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The meeting's version as you last read it."
    )


class ItemActionSerializer(VersionSerializer):
    item = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The agenda item's id.")


class MoveSerializer(ItemActionSerializer):
    direction = serializers.ChoiceField(choices=["up", "down"], required=False)
    position = serializers.IntegerField(
        min_value=1, max_value=10000, required=False, help_text="1 is the first place in the item's section."
    )

    def validate(self, data):
        if ("direction" in data) == ("position" in data):
            raise serializers.ValidationError(_("Give either a direction (up or down) or a position."))
        return data


class AnnotateSerializer(ItemActionSerializer):
    note = serializers.CharField(allow_blank=True, max_length=5000, help_text="Empty removes the note.")


class AddItemSerializer(VersionSerializer):
    section = serializers.ChoiceField(choices=AgendaSection.choices)
    title = serializers.CharField(max_length=250)
    detail = serializers.CharField(allow_blank=True, max_length=10000, required=False, default="")
    project = IdField(queryset=KeyProject.objects.all(), allow_null=True, required=False, default=None)


def _government_people():
    return Person.objects.filter(role__in=list(case_permissions.INTERNAL))


def _government_units():
    return Unit.objects.exclude(kind__in=agenda.EXTERNAL_UNITS)


class DetailsSerializer(VersionSerializer):
    title = serializers.CharField(max_length=200, required=False)
    scheduled_at = serializers.DateTimeField(required=False)
    duration_minutes = serializers.IntegerField(min_value=15, max_value=600, required=False)
    place = serializers.CharField(max_length=120, required=False)
    chair = IdField(queryset=_government_people(), allow_null=True, required=False)
    attendees = IdField(queryset=_government_people(), many=True, required=False)
    attending_units = IdField(queryset=_government_units(), many=True, required=False)


class ItemMinutesSerializer(text.Serializer):
    item = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    text = serializers.CharField(allow_blank=True, max_length=10000)


class DecisionInputSerializer(text.Serializer):
    text = serializers.CharField(max_length=300)
    owner = IdField(queryset=_government_people())
    unit = IdField(queryset=_government_units(), allow_null=True, required=False, help_text="The owner's unit when absent.")
    working_days = serializers.IntegerField(min_value=1, max_value=120)
    project = IdField(queryset=KeyProject.objects.all(), allow_null=True, required=False)
    item = serializers.IntegerField(min_value=1, max_value=MAX_ID, allow_null=True, required=False)


class MinutesSerializer(VersionSerializer):
    minutes = ItemMinutesSerializer(many=True, required=False)
    decisions = DecisionInputSerializer(many=True, required=False)


ERRORS = {
    400: OpenApiResponse(description="Bad input, by field."),
    403: OpenApiResponse(description="Only the secretariat changes meetings."),
    404: OpenApiResponse(description="Not found, or outside what you may see."),
    409: OpenApiResponse(description="The version is stale (someone changed the meeting), or its minutes are recorded."),
}


class MeetingViewSet(viewsets.GenericViewSet):
    """The monthly scheduling meetings: read by government people within their scope, prepared by
    the secretariat."""

    permission_classes = [drf_permissions.IsAuthenticated, MeetingAccess]
    serializer_class = MeetingSerializer
    queryset = Meeting.objects.none()
    filter_backends = []
    lookup_value_regex = r"[0-9]+"

    def get_object(self):
        meeting = selectors.meeting_for(self.request.user, self.kwargs["pk"])
        if meeting is None:
            raise Http404
        return meeting

    def _writable(self):
        meeting = self.get_object()
        if not case_permissions.is_secretariat(self.request.user):
            raise PermissionDenied(_("Only the secretariat changes meetings."))
        return meeting

    def _detail(self, meeting, code=status.HTTP_200_OK):
        fresh = selectors.meeting_for(self.request.user, meeting.pk)
        return Response(MeetingDetailSerializer(fresh).data, status=code)

    @staticmethod
    def _input(serializer_class, data):
        body = serializer_class(data=data if isinstance(data, dict) else {})
        body.is_valid(raise_exception=True)
        return body.validated_data

    def _item(self, meeting, item_id):
        item = AgendaItem.objects.filter(meeting=meeting, pk=item_id).first()
        if item is None:
            raise serializers.ValidationError({"item": [str(_("This item is not on the meeting's agenda."))]})
        item.meeting = meeting
        return item

    @extend_schema(summary="The meetings you may read, newest first")
    def list(self, request):
        page = self.paginate_queryset(selectors.meetings(request.user))
        return self.get_paginated_response(MeetingSerializer(page, many=True).data)

    @extend_schema(
        summary="A meeting with its agenda items, decisions, attendees and units",
        responses={200: MeetingDetailSerializer, 404: ERRORS[404]},
    )
    def retrieve(self, request, pk=None):
        return Response(MeetingDetailSerializer(self.get_object()).data)

    @extend_schema(
        summary="Draft (or draft again) a month's agenda from the data",
        description=(
            "Creates the meeting of the month reviewed with its agenda drafted in the design's order, "
            "or drafts a draft again (nothing is created twice; items added by hand, notes and order stay)."
        ),
        request=DraftSerializer,
        responses={
            200: MeetingDetailSerializer,
            201: MeetingDetailSerializer,
            400: ERRORS[400],
            403: ERRORS[403],
            409: OpenApiResponse(description="The meeting is published or minuted: its agenda is no longer drafted."),
        },
    )
    @action(detail=False, methods=["post"])
    def draft(self, request):
        if not case_permissions.is_secretariat(request.user):
            raise PermissionDenied(_("Only the secretariat changes meetings."))
        month = self._input(DraftSerializer, request.data)["month"]
        meeting = meetings.meeting_draft(month=month, actor=request.user)
        result = meeting.draft_result
        if not result.redrafted:
            return Response(
                {"detail": str(meetings.MeetingLocked(meeting).message), "code": "conflict"},
                status=status.HTTP_409_CONFLICT,
            )
        return self._detail(meeting, status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @extend_schema(
        summary="Move an agenda item up, down or to a position in its section",
        request=MoveSerializer,
        responses={200: MeetingDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        meeting = self._writable()
        data = self._input(MoveSerializer, request.data)
        item = self._item(meeting, data["item"])
        meetings.agenda_item_move(
            item=item,
            actor=request.user,
            version=data["version"],
            direction=data.get("direction"),
            position=data.get("position"),
        )
        return self._detail(meeting)

    @extend_schema(summary="Drop an agenda item", request=ItemActionSerializer, responses={200: MeetingDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def drop(self, request, pk=None):
        meeting = self._writable()
        data = self._input(ItemActionSerializer, request.data)
        meetings.agenda_item_drop(item=self._item(meeting, data["item"]), actor=request.user, version=data["version"])
        return self._detail(meeting)

    @extend_schema(
        summary="Put a dropped agenda item back", request=ItemActionSerializer, responses={200: MeetingDetailSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        meeting = self._writable()
        data = self._input(ItemActionSerializer, request.data)
        meetings.agenda_item_restore(item=self._item(meeting, data["item"]), actor=request.user, version=data["version"])
        return self._detail(meeting)

    @extend_schema(
        summary="Write the secretariat's note on an agenda item",
        request=AnnotateSerializer,
        responses={200: MeetingDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def annotate(self, request, pk=None):
        meeting = self._writable()
        data = self._input(AnnotateSerializer, request.data)
        meetings.agenda_item_annotate(
            item=self._item(meeting, data["item"]), actor=request.user, version=data["version"], note=data["note"]
        )
        return self._detail(meeting)

    @extend_schema(
        summary="Add an agenda item by hand, at the end of its section",
        request=AddItemSerializer,
        responses={200: MeetingDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def add(self, request, pk=None):
        meeting = self._writable()
        data = self._input(AddItemSerializer, request.data)
        meetings.agenda_item_add(
            meeting=meeting,
            actor=request.user,
            version=data["version"],
            section=data["section"],
            title=data["title"],
            detail=data.get("detail", ""),
            project=data.get("project"),
        )
        return self._detail(meeting)

    @extend_schema(
        summary="Edit the meeting's details: title, date and time, duration, place, chair, attendees, units",
        request=DetailsSerializer,
        responses={200: MeetingDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def details(self, request, pk=None):
        meeting = self._writable()
        data = dict(self._input(DetailsSerializer, request.data))
        version = data.pop("version")
        meetings.meeting_update(meeting=meeting, actor=request.user, version=version, **data)
        return self._detail(meeting)

    @extend_schema(
        summary="Publish the agenda: the invitees get the invitation with a calendar entry",
        description="Publishing again after a change sends the updated calendar entry (same uid).",
        request=VersionSerializer,
        responses={200: MeetingDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        meeting = self._writable()
        data = self._input(VersionSerializer, request.data)
        meetings.meeting_publish(meeting=meeting, actor=request.user, version=data["version"])
        return self._detail(meeting)

    @extend_schema(
        summary="Record the minutes per item and the decisions, each of which becomes its owner's task",
        request=MinutesSerializer,
        responses={200: MeetingDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def minutes(self, request, pk=None):
        meeting = self._writable()
        data = self._input(MinutesSerializer, request.data)
        meetings.meeting_record_minutes(
            meeting=meeting,
            actor=request.user,
            minutes_by_item={row["item"]: row["text"] for row in data.get("minutes", [])},
            decisions=[dict(row) for row in data.get("decisions", [])],
            version=data["version"],
        )
        return self._detail(meeting)
