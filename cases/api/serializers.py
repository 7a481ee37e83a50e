"""Serializers: the shapes the API reads and writes. Writes go through the services."""

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer

from ..models import (
    STRATEGIC_EMERGING_INDUSTRIES,
    AnnualPlan,
    AuditEvent,
    Blocker,
    KeyProject,
    Person,
    PreworkItem,
    ReadinessNeed,
    Stage,
    Unit,
)
from ..selectors import readiness_of
from ..services.pipeline import IDEA_FIELDS
from ..services.records import BLOCKER_TRANSITION_FIELDS, PREWORK_TRANSITION_FIELDS
from ..services.transitions import state_field
from . import text


class UnitSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "name", "short_name", "kind", "kind_display", "parent", "head", "is_active"]


class PersonSerializer(serializers.ModelSerializer):
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    rank_display = serializers.CharField(source="get_rank_display", read_only=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "unit",
            "unit_name",
            "title",
            "rank",
            "rank_display",
            "role",
            "role_display",
        ]


class AnnualPlanSerializer(text.ModelSerializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)

    class Meta:
        model = AnnualPlan
        fields = ["year", "planned_investment", "completed_investment"]
        extra_kwargs = {"completed_investment": {"required": False}}


class ProjectListSerializer(serializers.ModelSerializer):
    industry_display = serializers.CharField(source="get_industry_display", read_only=True)
    stage_display = serializers.CharField(source="get_stage_display", read_only=True)
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    lead_unit_name = serializers.CharField(
        source="lead_unit.name", read_only=True, default=None, allow_null=True
    )
    owner_name = serializers.CharField(
        source="owner.name", read_only=True, default=None, allow_null=True
    )
    responsible_leader_name = serializers.CharField(
        source="responsible_leader.name", read_only=True, default=None, allow_null=True
    )
    planned_this_year = serializers.DecimalField(
        max_digits=16, decimal_places=2, read_only=True, allow_null=True
    )
    completed_this_year = serializers.DecimalField(
        max_digits=16, decimal_places=2, read_only=True, allow_null=True
    )
    open_blocker_count = serializers.IntegerField(read_only=True)
    unsettled_prework_count = serializers.IntegerField(read_only=True)
    strategic_emerging = serializers.SerializerMethodField()
    industry_cluster_name = serializers.CharField(
        source="industry_cluster.name", read_only=True, default=None, allow_null=True
    )
    project_type_display = serializers.CharField(source="get_project_type_display", read_only=True)

    class Meta:
        model = KeyProject
        fields = [
            "id",
            "code",
            "project_code",
            "name",
            "industry",
            "industry_display",
            "strategic_emerging",
            "industry_cluster",
            "industry_cluster_name",
            "project_type",
            "project_type_display",
            "land_area_mu",
            "region",
            "region_name",
            "level",
            "level_display",
            "owner",
            "owner_name",
            "lead_unit",
            "lead_unit_name",
            "responsible_leader",
            "responsible_leader_name",
            "stage",
            "stage_display",
            "total_investment",
            "investment_completed_total",
            "capital_gap",
            "planned_this_year",
            "completed_this_year",
            "open_blocker_count",
            "unsettled_prework_count",
            "demonstration",
            "version",
        ]


    def get_strategic_emerging(self, project) -> bool:
        return project.industry in STRATEGIC_EMERGING_INDUSTRIES


class ReadinessLineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    kind_display = serializers.CharField()
    state = serializers.ChoiceField(choices=["done", "waived", "in_progress", "pending", "missing"])
    needed_to_select = serializers.BooleanField()


class PoolProjectSerializer(ProjectListSerializer):
    """A case in the pipeline (谋划 or the reserve pool) with its readiness checklist."""

    readiness_total = serializers.IntegerField(read_only=True)
    readiness_settled = serializers.IntegerField(read_only=True)
    readiness_missing_to_select = serializers.IntegerField(read_only=True)
    readiness = serializers.SerializerMethodField()
    entry_threshold = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True, allow_null=True)
    meets_entry_threshold = serializers.SerializerMethodField()
    planned_next_year = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True, allow_null=True)
    planned_start = serializers.DateField(read_only=True, allow_null=True)

    class Meta(ProjectListSerializer.Meta):
        fields = ProjectListSerializer.Meta.fields + [
            "planned_start",
            "planned_next_year",
            "entry_threshold",
            "meets_entry_threshold",
            "readiness_total",
            "readiness_settled",
            "readiness_missing_to_select",
            "readiness",
        ]

    @extend_schema_field(ReadinessLineSerializer(many=True))
    def get_readiness(self, project):
        checklist = self.context["checklists"].get(project.project_type, [])
        return [
            {
                "kind": line.kind,
                "kind_display": line.get_kind_display(),
                "state": state,
                "needed_to_select": line.needed == ReadinessNeed.TO_SELECT,
            }
            for line, state in readiness_of(project, checklist)
        ]

    def get_meets_entry_threshold(self, project) -> bool:
        return project.entry_threshold is None or project.total_investment >= project.entry_threshold


class IdeaSerializer(text.ModelSerializer):
    """A project idea (谋划): what a unit knows early. A unit's idea is led by that unit (its
    ``lead_unit`` is set from the caller); the project office names the unit."""

    class Meta:
        model = KeyProject
        fields = IDEA_FIELDS
        extra_kwargs = {"total_investment": {"required": False}}


class ProjectDetailSerializer(ProjectListSerializer):
    annual_plans = AnnualPlanSerializer(many=True, read_only=True)

    stage_before_suspension = serializers.ChoiceField(
        choices=Stage.choices, allow_blank=True, read_only=True
    )

    class Meta(ProjectListSerializer.Meta):
        fields = ProjectListSerializer.Meta.fields + [
            "description",
            "cooperating_units",
            "planned_start",
            "planned_finish",
            "actual_start",
            "actual_finish",
            "completion_accepted_on",
            "financing_waiver_reason",
            "stage_before_suspension",
            "stage_changed_at",
            "annual_plans",
            "created_at",
            "updated_at",
        ]


class ProjectWriteSerializer(text.ModelSerializer):
    """What a client may set on a key project; the stage moves only by transitions."""

    annual_plans = AnnualPlanSerializer(many=True, required=False)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=_(
            "The version you read; when given, a change made meanwhile by someone else is refused with 409."
        ),
    )

    class Meta:
        model = KeyProject
        fields = [
            "code",
            "project_code",
            "name",
            "description",
            "industry",
            "industry_cluster",
            "project_type",
            "land_area_mu",
            "region",
            "owner",
            "level",
            "lead_unit",
            "cooperating_units",
            "responsible_leader",
            "total_investment",
            "investment_completed_total",
            "capital_gap",
            "planned_start",
            "planned_finish",
            "actual_start",
            "actual_finish",
            "completion_accepted_on",
            "demonstration",
            "financing_waiver_reason",
            "annual_plans",
            "version",
        ]


class ApprovalsImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("The platform's Excel export (.xlsx): one row per approval item."))


class ApprovalsImportResultSerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text=_("Pre-work items marked done by the file."))
    unchanged = serializers.IntegerField(help_text=_("Approvals that were on record already, with the same number."))


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField()
    header = serializers.CharField()
    message = serializers.CharField()


class ImportFailedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = ImportErrorSerializer(many=True)


class TransitionOptionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    target = serializers.CharField()
    target_label = serializers.CharField()
    permitted = serializers.BooleanField(help_text=_("Whether you may take this step."))
    possible = serializers.BooleanField(help_text=_("Permitted and not blocked."))
    reason_required = serializers.BooleanField()
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text=_("Why the step is blocked; empty when it is not.")
    )


def _transition_names(model):
    field = state_field(model())
    return sorted({t.name for t in field.get_all_transitions(model)})


class TransitionRequestSerializer(text.Serializer):
    transition = serializers.ChoiceField(choices=[])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=_(
            "The version you read; when given, a change made meanwhile by someone else is refused with 409."
        ),
    )

    model = KeyProject

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["transition"].choices = _transition_names(self.model)


class PreworkTransitionSerializer(TransitionRequestSerializer):
    model = PreworkItem
    started_on = serializers.DateField(required=False)
    done_on = serializers.DateField(required=False)
    document_number = serializers.CharField(required=False, allow_blank=True, max_length=80)
    fields_by_transition = PREWORK_TRANSITION_FIELDS


class BlockerTransitionSerializer(TransitionRequestSerializer):
    model = Blocker
    lead_unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.all(), required=False)
    cooperating_units = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), many=True, required=False
    )
    due_on = serializers.DateField(required=False)
    resolution = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    merged_into = serializers.PrimaryKeyRelatedField(queryset=Blocker.objects.all(), required=False)
    fields_by_transition = BLOCKER_TRANSITION_FIELDS


class PreworkItemSerializer(text.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    approving_unit_name = serializers.CharField(source="approving_unit.name", read_only=True)
    project_code = serializers.CharField(source="project.code", read_only=True)
    label = serializers.CharField(read_only=True)

    class Meta:
        model = PreworkItem
        fields = [
            "id",
            "project",
            "project_code",
            "kind",
            "kind_display",
            "title",
            "label",
            "required",
            "approving_unit",
            "approving_unit_name",
            "statutory_days",
            "state",
            "state_display",
            "started_on",
            "done_on",
            "document_number",
            "waiver_reason",
            "note",
            "version",
        ]
        read_only_fields = ["state", "waiver_reason", "version"]


class PreworkItemUpdateSerializer(PreworkItemSerializer):
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)

    class Meta(PreworkItemSerializer.Meta):
        read_only_fields = ["project", "state", "waiver_reason"]


class BlockerSerializer(text.ModelSerializer):
    category_display = serializers.CharField(source="get_category_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    project_code = serializers.CharField(source="project.code", read_only=True)
    lead_unit_name = serializers.CharField(
        source="lead_unit.name", read_only=True, default=None, allow_null=True
    )
    reporting_unit_name = serializers.CharField(
        source="reporting_unit.name", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Blocker
        fields = [
            "id",
            "project",
            "project_code",
            "title",
            "description",
            "category",
            "category_display",
            "reporting_unit",
            "reporting_unit_name",
            "lead_unit",
            "lead_unit_name",
            "cooperating_units",
            "due_on",
            "state",
            "state_display",
            "resolution",
            "rejection_reason",
            "resolved_at",
            "closed_at",
            "created_at",
            "version",
        ]
        read_only_fields = [
            "state",
            "reporting_unit",
            "resolution",
            "rejection_reason",
            "resolved_at",
            "closed_at",
            "created_at",
            "version",
        ]


class BlockerUpdateSerializer(BlockerSerializer):
    version = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)

    class Meta(BlockerSerializer.Meta):
        read_only_fields = [*BlockerSerializer.Meta.read_only_fields, "project"]
        read_only_fields.remove("version")


class AuditEventSerializer(serializers.ModelSerializer):
    action_display = serializers.CharField(source="get_action_display", read_only=True)
    object_type = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "actor",
            "actor_name",
            "object_type",
            "object_id",
            "object_repr",
            "action",
            "action_display",
            "transition",
            "from_state",
            "to_state",
            "reason",
            "changes",
        ]

    @extend_schema_field(serializers.CharField())
    def get_object_type(self, event):
        return ContentType.objects.get_for_id(event.content_type_id).model


class TokenRequestSerializer(text.PlainTextMixin, AuthTokenSerializer):
    """A user name and password for an API token, bounded before they reach the authentication
    backends: a failed attempt is recorded with its user name, in a column of the user name's
    length."""

    username = serializers.CharField(
        label=_("Username"), write_only=True, max_length=User._meta.get_field("username").max_length
    )
    password = serializers.CharField(
        label=_("Password"),
        style={"input_type": "password"},
        trim_whitespace=False,
        write_only=True,
        max_length=4096,
    )
