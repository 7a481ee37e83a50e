"""The login page's single sign-on: where the unified identity's sign-in starts, while it is on."""

from django import template
from django.conf import settings
from django.urls import reverse

register = template.Library()


@register.simple_tag
def unified_identity_url():
    """The sign-in's start, or "" when the unified identity (OIDC_ENABLED) is off."""
    return reverse("oidc_authentication_init") if getattr(settings, "OIDC_ENABLED", False) else ""
