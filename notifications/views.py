"""The inbox pages: the list with filters, opening a message, marking all read, preferences."""

from django.contrib import messages as flash
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import generic

from . import messages, selectors, services
from .forms import PreferenceForm
from .models import Notification


def message_rows(notifications, language):
    for notification in notifications:
        title, body = messages.render(notification.key, notification.context, language)
        yield notification, title, body


class InboxView(LoginRequiredMixin, generic.TemplateView):
    template_name = "notifications/inbox.html"
    viewset = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        unread_only = self.request.GET.get("show") != "all"
        key = self.request.GET.get("key") or None
        page = Paginator(selectors.inbox(self.request.user, unread_only=unread_only, key=key), 25).get_page(
            self.request.GET.get("page")
        )
        context.update(
            {
                "page": page,
                "rows": list(message_rows(page.object_list, self.request.LANGUAGE_CODE)),
                "unread_only": unread_only,
                "key": key or "",
                "kinds": [(k.key, k.description) for k in messages.REGISTRY.values()],
            }
        )
        return context


class OpenView(LoginRequiredMixin, generic.View):
    """Mark a message read and follow its link."""

    def post(self, request, pk):
        try:
            notification = services.mark_read(user=request.user, notification_id=pk)
        except Notification.DoesNotExist:
            raise Http404 from None
        return HttpResponseRedirect(notification.link or reverse("notifications:inbox"))


class ReadAllView(LoginRequiredMixin, generic.View):
    def post(self, request):
        count = services.mark_all_read(user=request.user)
        flash.success(request, _("%(count)s messages marked read.") % {"count": count})
        return redirect("notifications:inbox")


class PreferencesView(LoginRequiredMixin, generic.FormView):
    template_name = "notifications/preferences.html"
    form_class = PreferenceForm
    viewset = None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "preference": services.preference_for(self.request.user)}

    def form_valid(self, form):
        services.set_preferences(
            user=self.request.user,
            language=form.cleaned_data["language"],
            daily_digest=form.cleaned_data["daily_digest"],
            channels_off=form.channels_off(),
        )
        flash.success(self.request, _("Your notification preferences were saved."))
        return redirect("notifications:preferences")
