"""The factor ledgers in the admin: ledgers and requests to read and search; lines read-only,
as they are append-only (written by the services, never changed or deleted)."""

from django.contrib import admin

from .models import FactorLedger, FactorLine, FactorRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FactorLineInline(admin.TabularInline):
    model = FactorLine
    fields = ["position", "at", "kind", "quantity", "balance_after", "project", "reason", "document_number", "actor_name"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["position"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FactorLedger)
class FactorLedgerAdmin(ReadOnlyAdmin):
    list_display = ["year", "factor", "bureau", "received", "reserved", "allocated", "returned", "balance"]
    list_filter = ["year", "factor", "bureau"]
    readonly_fields = ["factor", "year", "bureau", "received", "reserved", "allocated", "returned", "line_count"]
    inlines = [FactorLineInline]
    list_select_related = ["bureau"]


@admin.register(FactorLine)
class FactorLineAdmin(ReadOnlyAdmin):
    list_display = ["ledger", "position", "kind", "quantity", "balance_after", "project", "at", "actor_name"]
    list_filter = ["kind", "ledger__year", "ledger__factor"]
    search_fields = ["reason", "document_number", "project__code", "project__name"]
    list_select_related = ["ledger", "project"]


@admin.register(FactorRequest)
class FactorRequestAdmin(ReadOnlyAdmin):
    list_display = ["project", "item", "ledger", "quantity", "state", "requested_at"]
    list_filter = ["state", "ledger__year", "ledger__factor"]
    search_fields = ["project__code", "project__name"]
    list_select_related = ["project", "item", "ledger"]
