"""The admin: the outbox and the ledger (with a retry for dead deliveries), webhooks with
write-only secrets, preferences, and the page listing every kind of message."""

from django.contrib import admin
from django.contrib import messages as flash
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import messages, services
from .forms import WebhookAdminForm
from .models import Delivery, Notification, Preference, Webhook


class ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class DeliveryInline(ReadOnly, admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["channel", "state", "attempts", "due_at", "sent_at", "last_error"]


@admin.register(Notification)
class NotificationAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["created_at", "recipient", "key", "urgent", "read_at"]
    list_filter = ["key", "urgent", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["recipient__username", "key"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]
    inlines = [DeliveryInline]
    change_list_template = "admin/notifications/notification/change_list.html"

    def get_urls(self):
        extra = [
            path(
                "kinds/",
                self.admin_site.admin_view(self.kinds_view),
                name="notifications_notification_kinds",
            )
        ]
        return extra + super().get_urls()

    def kinds_view(self, request):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Kinds of message"),
            "kinds": [
                {
                    "kind": kind,
                    "title": str(kind.title),
                    "body": str(kind.body),
                }
                for kind in messages.REGISTRY.values()
            ],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/notifications/kinds.html", context)


@admin.action(description=_("Retry the selected deliveries"))
def retry(modeladmin, request, queryset):
    count = services.retry_deliveries(queryset)
    modeladmin.message_user(
        request,
        ngettext("%(count)d delivery will be tried again.", "%(count)d deliveries will be tried again.", count)
        % {"count": count},
        flash.SUCCESS,
    )


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["created_at", "notification", "channel", "state", "attempts", "due_at", "sent_at", "last_error"]
    list_filter = ["state", "webhook"]
    search_fields = ["channel", "notification__recipient__username", "last_error"]
    list_select_related = ["notification"]
    actions = [retry]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("notification__context")


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookAdminForm
    list_display = ["name", "kind", "host", "rate_limit_per_minute", "is_active", "secret_stored"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name"]

    @admin.display(description=_("host"))
    def host(self, webhook):
        from urllib.parse import urlsplit

        return urlsplit(webhook.url).hostname

    @admin.display(description=_("secret stored"), boolean=True)
    def secret_stored(self, webhook):
        return webhook.has_secret

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.cleaned_data.get("clear_secret"):
            services.webhook_set_secret(webhook=obj, secret="")
        elif form.cleaned_data.get("secret"):
            services.webhook_set_secret(webhook=obj, secret=form.cleaned_data["secret"])


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "language", "daily_digest"]
    list_filter = ["language", "daily_digest"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]


