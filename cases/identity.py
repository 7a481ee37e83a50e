"""Single sign-on: the sign-on mappings give a person their unit, role and rank from the claims
of the unified identity (OpenID Connect, through mozilla-django-oidc) or of the office directory
(``cases.directory``); the OpenID Connect backend and its two pages are here too."""

import hashlib
import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext_lazy as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from .models import IdentitySource
from .services.sign_on import REFUSED, SignOnRefused, mapping_for, person_sign_on  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)

UNMAPPED = _(
    "You are signed in, but your account has no unit and role yet, so you see no projects. "
    "Ask the project office to map your account."
)
FAILED = _("Signing in with the unified identity did not succeed. Try again, or ask the project office.")
CLOCK_SKEW_SECONDS = 60  # how far the provider's clock may be ahead of ours


def sign_on_or_tell(request, **kwargs):
    """``person_sign_on``, telling the person who signs in when it refuses them."""
    try:
        return person_sign_on(**kwargs)
    except SignOnRefused:
        if request is not None:
            messages.error(request, REFUSED)
        raise


def tell_if_unmapped(request, person):
    if person is None and request is not None:
        messages.warning(request, UNMAPPED)


def _limited(value, field):
    return str(value or "")[: get_user_model()._meta.get_field(field).max_length]


def oidc_username(sub):
    """The account of the unified identity's subject ``sub``: never an e-mail address, which
    another account may carry."""
    username = f"oidc-{sub}"
    if len(username) > get_user_model()._meta.get_field("username").max_length:
        username = f"oidc-{hashlib.sha256(str(sub).encode()).hexdigest()}"
    return username


class UnifiedIdentityBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, finding the account by the subject and mapping its claims."""

    def verify_claims(self, claims):
        return bool(claims.get("sub"))

    def verify_token(self, token, **kwargs):
        """mozilla-django-oidc checks the signature and the nonce; an ID token must also come from
        the configured issuer, be meant for this site (audience, authorised party) and not have
        expired (OpenID Connect Core 3.1.3.7)."""
        payload = super().verify_token(token, **kwargs)
        client_id = self.get_settings("OIDC_RP_CLIENT_ID")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if payload.get("iss") != self.get_settings("OIDC_OP_ISSUER"):
            raise SuspiciousOperation("The ID token's issuer is not the configured provider.")
        if client_id not in audiences or (len(audiences) > 1 and payload.get("azp") != client_id):
            raise SuspiciousOperation("The ID token is not meant for this site.")
        if "azp" in payload and payload["azp"] != client_id:
            raise SuspiciousOperation("The ID token was issued to another party.")
        if not isinstance(payload.get("exp"), int | float) or payload["exp"] < time.time() - CLOCK_SKEW_SECONDS:
            raise SuspiciousOperation("The ID token has expired.")
        return payload

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(username=oidc_username(claims["sub"]))

    def get_userinfo(self, access_token, id_token, payload):
        """The user-info claims over the ID token's, for the same subject only."""
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if str(userinfo.get("sub")) != str(payload.get("sub")):
            raise SuspiciousOperation("The user-info subject is not the ID token's.")
        return {**payload, **userinfo}

    def create_user(self, claims):
        user = self.UserModel.objects.create_user(oidc_username(claims["sub"]))
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        details = {
            "email": _limited(claims.get("email"), "email"),
            "first_name": _limited(claims.get("given_name"), "first_name"),
            "last_name": _limited(claims.get("family_name"), "last_name"),
        }
        if any(getattr(user, field) != value for field, value in details.items()):
            for field, value in details.items():
                setattr(user, field, value)
            user.save(update_fields=list(details))
        name = claims.get("name") or f"{details['last_name']}{details['first_name']}"
        person = sign_on_or_tell(
            self.request, user=user, source=IdentitySource.OIDC, claims=claims, name=name
        )
        tell_if_unmapped(self.request, person)
        return user


class UnifiedIdentityCallbackView(OIDCAuthenticationCallbackView):
    """The provider's way back: a failure, a forged or replayed state or nonce among them, returns
    to the login page with a message, signed in as nobody."""

    def get(self, request):
        try:
            return super().get(request)
        except SuspiciousOperation as exc:
            logging.getLogger("django.security.oidc").warning("unified identity sign-in refused: %s", exc)
            return self.login_failure()

    def login_failure(self):
        messages.error(self.request, FAILED)
        return redirect(settings.LOGIN_URL)


def _when_on(view):
    def view_when_on(request, *args, **kwargs):
        if not getattr(settings, "OIDC_ENABLED", False):
            raise Http404("The unified identity sign-in is off.")
        return view(request, *args, **kwargs)

    return view_when_on


# Included at oidc/ by config.urls; the names are mozilla-django-oidc's.
urlpatterns = [
    path("authenticate/", _when_on(OIDCAuthenticationRequestView.as_view()), name="oidc_authentication_init"),
    path("callback/", _when_on(UnifiedIdentityCallbackView.as_view()), name="oidc_authentication_callback"),
]
