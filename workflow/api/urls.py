"""API routes of the coordination engine, under /api/ beside the cases'."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .bulletins import BulletinViewSet, DashboardView, ExemptionViewSet
from .cycle import CycleViewSet, ReportViewSet
from .documents import BulletinDocumentViewSet, MeetingDocumentViewSet, ReportStatusDocumentViewSet
from .meetings import MeetingViewSet
from .views import LightViewSet, TaskViewSet

router = SimpleRouter()
router.register("tasks", TaskViewSet, basename="task")
router.register("lights", LightViewSet, basename="light")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("bulletins/exemptions", ExemptionViewSet, basename="bulletin-exemption")
router.register("bulletins", BulletinViewSet, basename="bulletin")
router.register("cycle", CycleViewSet, basename="cycle")
router.register("reports", ReportViewSet, basename="report")
router.register("documents/meetings", MeetingDocumentViewSet, basename="meeting-document")
router.register("documents/bulletins", BulletinDocumentViewSet, basename="bulletin-document")
router.register("documents/reports", ReportStatusDocumentViewSet, basename="report-status-document")

urlpatterns = router.urls + [path("dashboard/", DashboardView.as_view(), name="dashboard")]
