"""The admin of coordination: the holiday table, the ladder (editable), and read-only clocks,
escalations, supervision orders and interviews."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    AgendaItem,
    Bulletin,
    CycleRun,
    CycleStep,
    Decision,
    Escalation,
    EscalationStep,
    Holiday,
    Interview,
    LightRule,
    LightSnapshot,
    Meeting,
    MonthlyReport,
    ReportAcceptance,
    ScoreExemption,
    ScoreWeight,
    SupervisionOrder,
    TaskClock,
    UnitScore,
)


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "is_working_day"]
    list_filter = ["is_working_day"]
    search_fields = ["name"]
    date_hierarchy = "date"


@admin.register(EscalationStep)
class EscalationStepAdmin(admin.ModelAdmin):
    list_display = ["kind", "level", "trigger", "amount", "action", "is_active"]
    list_filter = ["kind", "level", "action", "is_active"]
    list_editable = ["is_active"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TaskClock)
class TaskClockAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "unit", "due_at", "paused_at", "next_fire_at", "closed_at"]
    list_filter = ["kind", ("closed_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "project__code"]
    list_select_related = ["unit"]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["fired_at", "clock", "level", "action", "overdue_days"]
    list_filter = ["level", "action"]
    list_select_related = ["clock"]


@admin.register(SupervisionOrder)
class SupervisionOrderAdmin(ReadOnlyAdmin):
    list_display = ["number", "subject", "unit", "urgency", "state", "issued_at"]
    list_filter = ["state", "urgency", "source"]
    search_fields = ["number", "subject"]
    list_select_related = ["unit"]


@admin.register(Interview)
class InterviewAdmin(ReadOnlyAdmin):
    list_display = ["leader", "project", "state", "proposed_at", "scheduled_at"]
    list_filter = ["state", "source"]
    list_select_related = ["leader", "project"]


@admin.register(LightRule)
class LightRuleAdmin(admin.ModelAdmin):
    list_display = ["measure", "comparison", "threshold", "light", "is_active"]
    list_filter = ["measure", "light", "is_active"]
    list_editable = ["is_active"]


@admin.register(LightSnapshot)
class LightSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["project", "month", "light", "lag", "consecutive_red", "forecast", "interview_proposed"]
    list_filter = ["month", "light", "forecast"]
    search_fields = ["project__code", "project__name"]
    list_select_related = ["project"]


@admin.register(CycleStep)
class CycleStepAdmin(admin.ModelAdmin):
    """The monthly timeline; when in the day the cycle checks it is django-celery-beat's periodic task."""

    list_display = ["kind", "working_day", "is_active"]
    list_editable = ["working_day", "is_active"]


@admin.register(CycleRun)
class CycleRunAdmin(ReadOnlyAdmin):
    list_display = ["month", "kind", "started_at", "finished_at"]
    list_filter = ["kind", "month"]


@admin.register(MonthlyReport)
class MonthlyReportAdmin(ReadOnlyAdmin):
    list_display = ["project", "month", "unit", "state", "investment_month", "progress_percent", "submitted_at"]
    list_filter = ["state", "month"]
    search_fields = ["project__code", "project__name"]
    list_select_related = ["project", "unit"]


@admin.register(ReportAcceptance)
class ReportAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ["pk", "month", "requested_by", "requested_at", "reports", "accepted", "skipped", "finished_at"]
    list_filter = ["month"]
    list_select_related = ["requested_by"]

    @admin.display(description=_("reports"))
    def reports(self, acceptance):
        return acceptance.total

    @admin.display(description=_("accepted"))
    def accepted(self, acceptance):
        return acceptance.accepted_count

    @admin.display(description=_("skipped"))
    def skipped(self, acceptance):
        return acceptance.skipped_count


class AgendaItemInline(admin.TabularInline):
    model = AgendaItem
    fields = ["position", "section", "title", "dropped"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "month", "scheduled_at", "state"]
    list_filter = ["state"]
    inlines = [AgendaItemInline]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["text", "meeting", "owner", "unit", "due_at", "state"]
    list_filter = ["state", "meeting"]
    list_select_related = ["meeting", "owner", "unit"]


@admin.register(ScoreWeight)
class ScoreWeightAdmin(admin.ModelAdmin):
    list_display = ["measure", "weight", "is_active"]
    list_editable = ["weight", "is_active"]


@admin.register(Bulletin)
class BulletinAdmin(ReadOnlyAdmin):
    list_display = ["number", "month", "state", "computed_at", "issued_at"]
    list_filter = ["state"]


@admin.register(UnitScore)
class UnitScoreAdmin(ReadOnlyAdmin):
    list_display = ["bulletin", "unit", "group", "total", "rank", "listing"]
    list_filter = ["bulletin", "group", "listing"]
    list_select_related = ["bulletin", "unit"]


@admin.register(ScoreExemption)
class ScoreExemptionAdmin(ReadOnlyAdmin):
    """Exemptions are granted on the bulletin page, through the service that audits them."""

    list_display = ["unit", "month", "measure", "project", "created_by", "created_at"]
    list_filter = ["measure", "month"]
    list_select_related = ["unit", "project", "created_by"]
