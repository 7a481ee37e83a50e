"""The case core's API routes under /api/: its viewsets (``ROUTES``) and plain paths (``PATHS``).

``config.api`` puts them in one router with financing docking's, which extends the projects'.
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from notifications import api as notification_api

from . import views

ROUTES = [
    ("units", views.UnitViewSet, "unit"),
    ("people", views.PersonViewSet, "person"),
    ("projects", views.ProjectViewSet, "project"),
    ("pool", views.PoolViewSet, "pool"),
    ("ideas", views.IdeaViewSet, "idea"),
    ("prework-items", views.PreworkItemViewSet, "prework-item"),
    ("blockers", views.BlockerViewSet, "blocker"),
    ("notifications", notification_api.NotificationViewSet, "notification"),
]

PATHS = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("notifications/preferences/", notification_api.PreferenceView.as_view(), name="notification-preferences"),
]
