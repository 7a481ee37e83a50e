"""The Django admin for financing docking's models: shown read-only, but for the stall rules."""

from django.contrib import admin

from cases.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    Docking,
    DockingStallRule,
    EventInvitation,
    FinancialProduct,
    FinancingNeed,
    MatchmakingEvent,
    NeedMatch,
)


@admin.register(Docking)
class DockingAdmin(ReadOnlyAdmin):
    list_display = ["project", "institution", "state", "credit_approved_amount", "disbursed_amount"]
    list_filter = ["state"]
    search_fields = ["project__code", "project__project_code", "institution__name"]
    list_select_related = ["project", "institution"]


@admin.register(FinancingNeed)
class FinancingNeedAdmin(ReadOnlyAdmin):
    """Needs are submitted from the case and published on the white list through the services."""

    list_display = ["project", "financing_type", "amount", "state", "deadline", "published_at"]
    list_filter = ["state", "financing_type", "industry"]
    search_fields = ["project__code", "project__project_code", "project__name", "purpose"]
    list_select_related = ["project"]


@admin.register(FinancialProduct)
class FinancialProductAdmin(ReadOnlyAdmin):
    """Products are maintained on their pages through the services, which rematch the needs."""

    list_display = ["name", "institution", "financing_type", "special_line", "amount_min", "amount_max", "is_active"]
    list_filter = ["financing_type", "special_line", "is_active"]
    search_fields = ["name", "institution__name"]
    list_select_related = ["institution"]


@admin.register(NeedMatch)
class NeedMatchAdmin(ReadOnlyAdmin):
    list_display = ["need", "product", "institution", "score", "computed_at"]
    list_select_related = ["need", "product", "institution"]


@admin.register(DockingStallRule)
class DockingStallRuleAdmin(admin.ModelAdmin):
    list_display = ["state", "working_days"]
    list_editable = ["working_days"]


class EventInvitationInline(ReadOnlyInline):
    model = EventInvitation
    fields = ["institution", "invited_at", "attended"]


@admin.register(MatchmakingEvent)
class MatchmakingEventAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "chain", "starts_at", "state"]
    list_filter = ["kind", "chain", "state"]
    inlines = [EventInvitationInline]
