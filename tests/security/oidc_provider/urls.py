"""The test provider's pages: a login form and django-oidc-provider's endpoints."""

from django.contrib.auth.views import LoginView
from django.urls import include, path

urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("", include("oidc_provider.urls", namespace="oidc_provider")),
]
