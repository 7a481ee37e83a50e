"""The Django admin of the monthly cycle: the light rules, the cycle's steps and the score weights
are edited here; everything else is shown read-only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from workflow.engine.admin import ReadOnlyAdmin

from .models import (
    AgendaItem,
    Bulletin,
    CycleRun,
    CycleStep,
    Decision,
    LightRule,
    LightSnapshot,
    Meeting,
    MonthlyReport,
    ReportAcceptance,
    ScoreExemption,
    ScoreWeight,
    UnitScore,
)


@admin.register(LightRule)
class LightRuleAdmin(admin.ModelAdmin):
    list_display = ["measure", "comparison", "threshold", "light", "is_active"]
    list_filter = ["measure", "light", "is_active"]
    list_editable = ["is_active"]


@admin.register(LightSnapshot)
class LightSnapshotAdmin(ReadOnlyAdmin):
    list_display = ["project", "month", "light", "lag", "consecutive_red", "forecast", "interview_proposed"]
    list_filter = ["month", "light", "forecast"]
    search_fields = ["project__code", "project__project_code", "project__name"]
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
    search_fields = ["project__code", "project__project_code", "project__name"]
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
