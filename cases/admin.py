"""The Django admin for the case core's models (financing docking's are in
``cases.financing.admin``).

The organisation is edited here. Key projects and their records are shown read-only:
they change through the pages, the API and the services, which audit every change.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from .models import (
    AnnualPlan,
    AuditEvent,
    Blocker,
    EntryThreshold,
    IdentityMapping,
    IndustryCluster,
    KeyProject,
    LeaderResponsibility,
    Person,
    PreworkItem,
    ReadinessItem,
    RegionCode,
    Unit,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable in the admin; changed only through the services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "kind", "parent", "head", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name"]
    autocomplete_fields = ["parent", "head"]
    filter_horizontal = ["webhooks"]


@admin.register(RegionCode)
class RegionCodeAdmin(admin.ModelAdmin):
    """The city's region codes: a project code's region must be one of them."""

    list_display = ["code", "name", "unit"]
    search_fields = ["code", "name", "unit__name"]
    list_select_related = ["unit"]


@admin.register(IndustryCluster)
class IndustryClusterAdmin(admin.ModelAdmin):
    """The city's industrial clusters (产业集群), each within an industry, for the cases to name."""

    list_display = ["name", "industry", "position"]
    list_filter = ["industry"]
    list_editable = ["position"]
    search_fields = ["name"]


@admin.register(EntryThreshold)
class EntryThresholdAdmin(admin.ModelAdmin):
    """The reserve pool's entry thresholds (入库门槛): the least total investment per project type
    that the guard from idea to reserve asks for."""

    list_display = ["project_type", "minimum_investment"]


@admin.register(ReadinessItem)
class ReadinessItemAdmin(admin.ModelAdmin):
    """The readiness checklist per project type: which pre-work the pool counts, and which of it
    the case needs before it may leave the reserve (``select``). Saved changes reach every
    process within a minute (the checklists are cached that long)."""

    list_display = ["project_type", "kind", "needed", "position"]
    list_filter = ["project_type", "needed"]
    list_editable = ["needed", "position"]
    ordering = ["project_type", "position"]


class PersonInline(admin.StackedInline):
    model = Person
    can_delete = False
    fk_name = "user"
    autocomplete_fields = ["unit"]


class PersonUserAdmin(UserAdmin):
    inlines = [PersonInline]


admin.site.unregister(User)
admin.site.register(User, PersonUserAdmin)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "title", "rank", "role"]
    list_filter = ["role", "rank", "unit__kind"]
    search_fields = ["name", "title", "unit__name", "user__username"]
    autocomplete_fields = ["unit", "user"]
    list_select_related = ["unit"]


@admin.register(IdentityMapping)
class IdentityMappingAdmin(admin.ModelAdmin):
    """Which unit, role and rank a single sign-on's claims give; read at every sign-on."""

    list_display = ["source", "claim", "value", "unit", "role", "rank", "priority"]
    list_filter = ["source", "role"]
    search_fields = ["claim", "value", "unit__name"]
    autocomplete_fields = ["unit"]
    list_select_related = ["unit"]


@admin.register(LeaderResponsibility)
class LeaderResponsibilityAdmin(admin.ModelAdmin):
    list_display = ["leader", "unit", "note"]
    search_fields = ["leader__name", "unit__name"]
    autocomplete_fields = ["leader", "unit"]
    list_select_related = ["leader__unit", "unit"]


class AnnualPlanInline(ReadOnlyInline):
    model = AnnualPlan


class PreworkItemInline(ReadOnlyInline):
    model = PreworkItem
    fields = ["kind", "title", "required", "approving_unit", "statutory_days", "state", "done_on"]


@admin.register(KeyProject)
class KeyProjectAdmin(ReadOnlyAdmin):
    list_display = ["code", "project_code", "name", "stage", "industry", "region", "lead_unit", "total_investment"]
    list_filter = ["stage", "industry", "level", "demonstration", "region"]
    search_fields = ["code", "project_code", "name"]
    list_select_related = ["region", "lead_unit"]
    inlines = [AnnualPlanInline, PreworkItemInline]


@admin.register(PreworkItem)
class PreworkItemAdmin(ReadOnlyAdmin):
    list_display = ["project", "kind", "approving_unit", "statutory_days", "state", "done_on"]
    list_filter = ["state", "kind", "required"]
    search_fields = ["project__code", "project__project_code", "project__name", "title", "document_number"]
    list_select_related = ["project", "approving_unit"]


@admin.register(Blocker)
class BlockerAdmin(ReadOnlyAdmin):
    list_display = ["project", "title", "category", "lead_unit", "state", "created_at"]
    list_filter = ["state", "category"]
    search_fields = ["project__code", "project__project_code", "title"]
    list_select_related = ["project", "lead_unit"]


@admin.register(AnnualPlan)
class AnnualPlanAdmin(ReadOnlyAdmin):
    list_display = ["project", "year", "planned_investment", "completed_investment"]
    list_filter = ["year"]
    search_fields = ["project__code", "project__project_code"]
    list_select_related = ["project"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_name", "object_repr", "action", "transition", "from_state", "to_state"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "actor_name", "reason"]
    date_hierarchy = "at"
