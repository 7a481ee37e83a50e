"""The Django admin of the annual plan: shown read-only; it changes only through the services
(proposals, decisions, publication and adjustments are audited there)."""

from django.contrib import admin

from workflow.engine.admin import ReadOnlyAdmin

from .models import PlanCompilation, PlanEntry, PlanProposal, PlanTarget, PlanVersion


class TargetInline(admin.TabularInline):
    model = PlanTarget
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PlanCompilation)
class PlanCompilationAdmin(ReadOnlyAdmin):
    list_display = ["year", "state", "deadline", "target_total", "adjust_from", "adjust_to", "published_at"]
    list_filter = ["state"]
    inlines = [TargetInline]


@admin.register(PlanProposal)
class PlanProposalAdmin(ReadOnlyAdmin):
    list_display = ["compilation", "project", "unit", "planned_year", "planned_start", "state"]
    list_filter = ["compilation", "state"]
    search_fields = ["project__code", "project__name", "unit__name"]
    list_select_related = ["compilation", "project", "unit"]


@admin.register(PlanVersion)
class PlanVersionAdmin(ReadOnlyAdmin):
    list_display = ["compilation", "number", "change", "project", "reason", "created_at"]
    list_filter = ["compilation", "change"]
    list_select_related = ["compilation", "project"]


@admin.register(PlanEntry)
class PlanEntryAdmin(ReadOnlyAdmin):
    list_display = ["version", "project", "planned_year", "planned_next", "planned_after", "planned_start"]
    search_fields = ["project__code", "project__name"]
    list_select_related = ["version__compilation", "project"]
