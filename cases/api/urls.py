"""API routes under /api/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from notifications import api as notification_api

from . import dockings_events, financing, portal_stats, views

router = DefaultRouter()
# No ".json" twins of the routes: their actions take no format argument (as the workflow API, a SimpleRouter).
router.include_format_suffixes = False
router.register("units", views.UnitViewSet, basename="unit")
router.register("people", views.PersonViewSet, basename="person")
router.register("projects", views.ProjectViewSet, basename="project")
router.register("prework-items", views.PreworkItemViewSet, basename="prework-item")
router.register("blockers", views.BlockerViewSet, basename="blocker")
router.register("dockings", dockings_events.DockingViewSet, basename="docking")
router.register("events", dockings_events.EventViewSet, basename="event")
router.register("needs", financing.NeedViewSet, basename="need")
router.register("products", financing.ProductViewSet, basename="product")
router.register("notifications", notification_api.NotificationViewSet, basename="notification")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("auth/token/", obtain_auth_token, name="token"),
    path("notifications/preferences/", notification_api.PreferenceView.as_view(), name="notification-preferences"),
    path("financing/statistics/", portal_stats.StatisticsView.as_view(), name="financing-statistics"),
    path("financing/statistics/xlsx/", portal_stats.StatisticsWorkbookView.as_view(), name="financing-statistics-xlsx"),
    path("portal/", portal_stats.PortalView.as_view(), name="portal"),
    path("", include(router.urls)),
]
