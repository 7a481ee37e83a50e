"""Serializers of the engine's API: tasks with their deadlines, escalations and the inputs their
step takes."""

from django import forms
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cases.api import text

from .. import clocks, selectors, services, steps
from ..calendar import WorkingCalendar


class DueSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=["on_time", "due_soon", "overdue", "paused", "closed"])
    label = serializers.CharField()
    overdue_days = serializers.IntegerField()


class RefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ProjectRefSerializer(RefSerializer):
    code = serializers.CharField()


def _due(clock, context):
    if clock is None:
        return None
    state = selectors.due_state(clock, context.get("now"), context.get("calendar"))
    return {"code": state.code, "label": state.label, "overdue_days": state.overdue_days}


def _project_ref(project):
    """The case a task is about; None for a task about no single case (a meeting decision on a policy)."""
    return {"id": project.pk, "code": project.code, "name": project.name} if project is not None else None


def _clock_of(task):
    try:
        return task.clock
    except task._meta.get_field("clock").related_model.DoesNotExist:
        return None


class TaskSerializer(serializers.Serializer):
    """A human task: which step of which flow, the case, the unit, and its deadline."""

    id = serializers.IntegerField(read_only=True)
    process = serializers.IntegerField(source="process_id", read_only=True)
    flow = serializers.SerializerMethodField()
    step = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField()
    subject = serializers.SerializerMethodField()
    status = serializers.CharField(read_only=True)
    owner = serializers.SerializerMethodField()
    project = serializers.SerializerMethodField()
    unit = serializers.SerializerMethodField()
    created = serializers.DateTimeField(read_only=True)
    due_at = serializers.SerializerMethodField()
    due = serializers.SerializerMethodField()
    completable_by_api = serializers.SerializerMethodField()
    page = serializers.SerializerMethodField()

    def get_flow(self, task) -> str:
        return task.flow_task.flow_class.__name__

    def get_step(self, task) -> str:
        return task.flow_task.name

    def get_title(self, task) -> str:
        return str(task.flow_task.task_title)

    def get_subject(self, task) -> str:
        clock = _clock_of(task)
        return clock.title if clock else ""

    def get_owner(self, task) -> str | None:
        return task.owner.username if task.owner_id else None

    @extend_schema_field(ProjectRefSerializer(allow_null=True))
    def get_project(self, task):
        clock = _clock_of(task)
        return _project_ref(clock.project) if clock else None

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_unit(self, task):
        clock = _clock_of(task)
        return {"id": clock.unit_id, "name": clock.unit.name} if clock else None

    def get_due_at(self, task) -> str | None:
        clock = _clock_of(task)
        return clock.due_at.isoformat() if clock else None

    @extend_schema_field(DueSerializer(allow_null=True))
    def get_due(self, task):
        return _due(_clock_of(task), self.context)

    def get_completable_by_api(self, task) -> bool:
        step = steps.step_of(task)
        return bool(step and step.simple)

    def get_page(self, task) -> str:
        return f"/workflow/tasks/{task.pk}/"


class OverdueSerializer(serializers.Serializer):
    """One row of the overdue board."""

    task = serializers.IntegerField(source="task_id")
    title = serializers.CharField(source="display_title")
    subject = serializers.CharField(source="title")
    project = serializers.SerializerMethodField()
    unit = serializers.SerializerMethodField()
    leader = serializers.SerializerMethodField()
    due_at = serializers.DateTimeField()
    overdue_days = serializers.IntegerField(source="due.overdue_days")
    level = serializers.IntegerField(allow_null=True)

    @extend_schema_field(ProjectRefSerializer(allow_null=True))
    def get_project(self, clock):
        return _project_ref(clock.project)

    @extend_schema_field(RefSerializer)
    def get_unit(self, clock):
        return {"id": clock.unit_id, "name": clock.unit.name}

    @extend_schema_field(RefSerializer(allow_null=True))
    def get_leader(self, clock):
        """The case's responsible leader; None without one, or without a case."""
        leader = clock.project.responsible_leader if clock.project is not None else None
        return {"id": leader.pk, "name": leader.name} if leader else None


class ToldSerializer(serializers.Serializer):
    name = serializers.CharField()


class EscalationSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    action = serializers.CharField()
    action_label = serializers.CharField(source="get_action_display")
    rung = serializers.CharField(source="step")
    fired_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    overdue_days = serializers.IntegerField()
    told = serializers.ListField(child=serializers.DictField())
    note = serializers.CharField()


class PauseEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_name")
    event = serializers.CharField(source="transition")
    reason = serializers.CharField()


class ClockSerializer(serializers.Serializer):
    started_at = serializers.DateTimeField()
    working_days = serializers.IntegerField()
    due_at = serializers.DateTimeField()
    paused_at = serializers.DateTimeField(allow_null=True)
    pause_reason = serializers.CharField()
    paused_working_seconds = serializers.FloatField(source="paused_seconds")
    next_escalation_at = serializers.DateTimeField(source="next_fire_at", allow_null=True)
    next_level = serializers.IntegerField(source="next_step.level", allow_null=True, default=None)
    closed_at = serializers.DateTimeField(allow_null=True)


class FieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    type = serializers.CharField()
    required = serializers.BooleanField()
    choices = serializers.ListField(child=serializers.ListField(), required=False)


def describe_form(form_class, **kwargs):
    """The inputs a step takes, for a client that builds its own form."""
    form = form_class(**kwargs)
    described = []
    for name, field in form.fields.items():
        entry = {
            "name": name,
            "label": str(field.label or name),
            "type": type(field).__name__.removesuffix("Field").lower() or "char",
            "required": field.required,
        }
        if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            entry["choices"] = [[value, str(label)] for value, label in field.choices]
        described.append(entry)
    return described


class TaskDetailSerializer(TaskSerializer):
    """A task with its clock, its breach history (each rung fired, who was told, the pauses) and its inputs."""

    clock = serializers.SerializerMethodField()
    escalations = serializers.SerializerMethodField()
    pauses = serializers.SerializerMethodField()
    can_act = serializers.SerializerMethodField()
    can_pause = serializers.SerializerMethodField()
    inputs = serializers.SerializerMethodField()

    @extend_schema_field(ClockSerializer(allow_null=True))
    def get_clock(self, task):
        clock = _clock_of(task)
        return ClockSerializer(clock).data if clock else None

    @extend_schema_field(EscalationSerializer(many=True))
    def get_escalations(self, task):
        clock = _clock_of(task)
        return EscalationSerializer(selectors.escalations_of(clock), many=True).data if clock else []

    @extend_schema_field(PauseEventSerializer(many=True))
    def get_pauses(self, task):
        clock = _clock_of(task)
        return PauseEventSerializer(selectors.pauses_of(clock), many=True).data if clock else []

    def get_can_act(self, task) -> bool:
        return services.can_act(self.context["request"].user, task)

    def get_can_pause(self, task) -> bool:
        clock = _clock_of(task)
        return bool(clock and not clock.closed_at and clocks.may_pause(self.context["request"].user, clock))

    @extend_schema_field(FieldSerializer(many=True))
    def get_inputs(self, task):
        step = steps.step_of(task)
        if step is None or task.status not in selectors.OPEN:
            return []
        return describe_form(step.form_class, **steps.form_kwargs(task))


class PauseSerializer(text.Serializer):
    reason = serializers.CharField(max_length=300)


def context_with_calendar(context):
    return {**context, "calendar": WorkingCalendar.load(), "now": timezone.now()}
