"""Forms: a person's preferences, and a webhook whose secret is written once and never shown."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from . import messages
from .models import Channel, Webhook


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of my messages"),
        choices=[("", _("The site's default"))] + list(settings.LANGUAGES),
        required=False,
    )
    daily_digest = forms.BooleanField(
        label=_("Send me one email a day instead of single emails (urgent ones still come at once)"),
        required=False,
    )

    def __init__(self, *args, preference=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = list(messages.REGISTRY.values())
        switched_off = preference.channels_off if preference else {}
        for kind in self.kinds:
            for channel in Channel:
                name = f"{kind.key}__{channel.value}"
                self.fields[name] = forms.BooleanField(
                    label=f"{kind.description} · {channel.label}",
                    required=False,
                    initial=channel.value not in switched_off.get(kind.key, []),
                )
        if preference is not None:
            self.initial.setdefault("language", preference.language)
            self.initial.setdefault("daily_digest", preference.daily_digest)

    def rows(self):
        """(kind, [bound field per channel]) for the table on the page."""
        return [(kind, [self[f"{kind.key}__{channel.value}"] for channel in Channel]) for kind in self.kinds]

    def channels_off(self):
        return {
            kind.key: [c.value for c in Channel if not self.cleaned_data.get(f"{kind.key}__{c.value}")]
            for kind in self.kinds
        }


class WebhookAdminForm(forms.ModelForm):
    url = forms.URLField(
        label=_("address"),
        max_length=500,
        assume_scheme="https",
        help_text=Webhook._meta.get_field("url").help_text,
    )
    secret = forms.CharField(
        label=_("Secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "DingTalk's signing secret (SEC...) or the key that signs a generic webhook. "
            "It is stored encrypted and never shown again; leave empty to keep the current one."
        ),
    )
    clear_secret = forms.BooleanField(label=_("Remove the stored secret"), required=False)

    class Meta:
        model = Webhook
        fields = ["name", "kind", "url", "rate_limit_per_minute", "is_active"]
