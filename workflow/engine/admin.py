"""The Django admin of the engine: the holiday table and the escalation ladder are edited here;
clocks and escalations are shown read-only."""

from django.contrib import admin

from .models import Escalation, EscalationStep, Holiday, TaskClock


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
    search_fields = ["title", "project__code", "project__project_code"]
    list_select_related = ["unit"]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["fired_at", "clock", "level", "action", "overdue_days"]
    list_filter = ["level", "action"]
    list_select_related = ["clock"]
