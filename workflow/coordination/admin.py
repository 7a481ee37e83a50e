"""The Django admin of the coordination flows' records, read-only."""

from django.contrib import admin

from workflow.engine.admin import ReadOnlyAdmin

from .models import Interview, SupervisionOrder


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
