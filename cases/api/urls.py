"""API routes under /api/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from notifications import api as notification_api

from . import views

router = DefaultRouter()
router.register("units", views.UnitViewSet, basename="unit")
router.register("people", views.PersonViewSet, basename="person")
router.register("projects", views.ProjectViewSet, basename="project")
router.register("prework-items", views.PreworkItemViewSet, basename="prework-item")
router.register("blockers", views.BlockerViewSet, basename="blocker")
router.register("dockings", views.DockingViewSet, basename="docking")
router.register("notifications", notification_api.NotificationViewSet, basename="notification")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("auth/token/", obtain_auth_token, name="token"),
    path("notifications/preferences/", notification_api.PreferenceView.as_view(), name="notification-preferences"),
    path("", include(router.urls)),
]
