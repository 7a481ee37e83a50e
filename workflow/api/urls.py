"""API routes of the coordination engine, under /api/ beside the cases'."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from workflow.engine.api.views import TaskViewSet
from workflow.engine.api.work import MyWorkView
from workflow.monthly.api.attachments import ReportAttachmentViewSet
from workflow.monthly.api.bulletins import BulletinViewSet, DashboardView, ExemptionViewSet
from workflow.monthly.api.cycle import CycleViewSet, ReportViewSet
from workflow.monthly.api.documents import (
    BulletinDocumentViewSet,
    MeetingDocumentViewSet,
    ReportStatusDocumentViewSet,
)
from workflow.monthly.api.lights import LightViewSet
from workflow.monthly.api.meetings import MeetingViewSet
from workflow.planning.api import PlanViewSet

router = SimpleRouter()
router.register("tasks", TaskViewSet, basename="task")
router.register("lights", LightViewSet, basename="light")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("bulletins/exemptions", ExemptionViewSet, basename="bulletin-exemption")
router.register("bulletins", BulletinViewSet, basename="bulletin")
router.register("cycle", CycleViewSet, basename="cycle")
router.register("planning", PlanViewSet, basename="planning")
router.register("reports", ReportViewSet, basename="report")
router.register(r"reports/(?P<report_id>[0-9]+)/attachments", ReportAttachmentViewSet, basename="report-attachment")
router.register("documents/meetings", MeetingDocumentViewSet, basename="meeting-document")
router.register("documents/bulletins", BulletinDocumentViewSet, basename="bulletin-document")
router.register("documents/reports", ReportStatusDocumentViewSet, basename="report-status-document")

urlpatterns = router.urls + [
    path("dashboard/", DashboardView.as_view(), name="dashboard"),
    path("my-work/", MyWorkView.as_view(), name="my_work"),
]
