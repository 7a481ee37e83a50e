"""Financing docking's API routes under /api/: its viewsets (``ROUTES``, the projects' among them,
which replace the case core's) and plain paths (``PATHS``); ``config.api`` routes them."""

from django.urls import path

from . import dockings, needs, portal, projects

ROUTES = [
    ("projects", projects.ProjectViewSet, "project"),
    ("dockings", dockings.DockingViewSet, "docking"),
    ("events", dockings.EventViewSet, "event"),
    ("needs", needs.NeedViewSet, "need"),
    ("products", needs.ProductViewSet, "product"),
]

PATHS = [
    path("financing/statistics/", portal.StatisticsView.as_view(), name="financing-statistics"),
    path("financing/statistics/xlsx/", portal.StatisticsWorkbookView.as_view(), name="financing-statistics-xlsx"),
    path("portal/", portal.PortalView.as_view(), name="portal"),
]
