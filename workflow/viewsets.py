"""The coordination application: viewflow's shared inbox, queue and archive over our four flows,
with the overdue board, supervision orders, interviews and each task's deadline page."""

from django.urls import path
from django.utils.translation import gettext_lazy as _

from cases import permissions as case_permissions
from cases.models import Role
from workflow.coordination import pages as coordination_pages
from workflow.coordination.flows import (
    BlockerFlow,
    DockingFollowUpFlow,
    InterviewFlow,
    PreworkFlow,
    SupervisionFlow,
)
from workflow.engine import pages as engine_pages
from workflow.monthly.flows import DecisionFlow, ReportFlow
from workflow.monthly.pages import (
    attachments as attachment_pages,
)
from workflow.monthly.pages import (
    bulletin as bulletin_pages,
)
from workflow.monthly.pages import (
    cycle as cycle_pages,
)
from workflow.monthly.pages import (
    documents as document_pages,
)
from workflow.monthly.pages import lights
from workflow.monthly.pages import (
    meetings as meeting_pages,
)
from workflow.planning.flows import ProposeFlow


class CoordinationApplication(engine_pages.ScopedWorkflowAppViewset):
    title = _("Tasks")
    icon = "assignment"
    app_name = "workflow"
    base_template_name = "kp/base_page.html"
    menu_template_name = "workflow/menu.html"
    inbox_view_class = engine_pages.InboxView
    queue_view_class = engine_pages.QueueView
    archive_view_class = engine_pages.ArchiveView

    def __init__(self, **kwargs):
        super().__init__(
            flow_viewsets=[
                engine_pages.ScopedFlowViewset(BlockerFlow, icon="report_problem"),
                engine_pages.ScopedFlowViewset(PreworkFlow, icon="fact_check"),
                engine_pages.ScopedFlowViewset(SupervisionFlow, icon="gavel"),
                engine_pages.ScopedFlowViewset(InterviewFlow, icon="record_voice_over"),
                engine_pages.ScopedFlowViewset(ReportFlow, icon="summarize"),
                engine_pages.ScopedFlowViewset(DecisionFlow, icon="how_to_vote"),
                engine_pages.ScopedFlowViewset(DockingFollowUpFlow, icon="handshake"),
                engine_pages.ScopedFlowViewset(ProposeFlow, icon="event_note"),
            ],
            **kwargs,
        )

    def has_view_permission(self, user, obj=None):
        # A project owner opens its cases' monthly report steps here (and nothing else: each page
        # and flow checks its own permission).
        return not user.is_authenticated or case_permissions.role_of(user) in case_permissions.INTERNAL | {Role.OWNER}

    @property
    def board_path(self):
        return path("overdue/", engine_pages.OverdueBoardView.as_view(viewset=self), name="overdue")

    @property
    def board_export_path(self):
        return path("overdue/export.xlsx", engine_pages.OverdueExportView.as_view(), name="overdue_export")

    @property
    def clock_path(self):
        return path("tasks/<int:pk>/", engine_pages.TaskClockView.as_view(viewset=self), name="task_clock")

    @property
    def pause_path(self):
        return path("tasks/<int:pk>/clock/", engine_pages.PauseView.as_view(), name="task_pause")

    @property
    def lights_path(self):
        return path("lights/", lights.LightsView.as_view(viewset=self), name="lights")

    @property
    def cycle_path(self):
        return path("cycle/", cycle_pages.CyclePage.as_view(viewset=self), name="cycle")

    @property
    def reports_path(self):
        return path("reports/", cycle_pages.ReportListPage.as_view(viewset=self), name="reports")

    @property
    def report_path(self):
        return path("reports/<int:pk>/", cycle_pages.ReportDetailPage.as_view(viewset=self), name="report")

    @property
    def report_attachment_path(self):
        return path(
            "reports/<int:pk>/attachments/<int:attachment>/",
            attachment_pages.ReportAttachmentView.as_view(viewset=self),
            name="report_attachment",
        )

    @property
    def bulletin_path(self):
        return path("bulletin/", bulletin_pages.BulletinView.as_view(viewset=self), name="bulletin")

    @property
    def bulletin_exemptions_path(self):
        return path(
            "bulletin/exemptions/", bulletin_pages.ExemptionsView.as_view(viewset=self), name="bulletin_exemptions"
        )

    @property
    def dashboard_path(self):
        return path("dashboard/", bulletin_pages.DashboardView.as_view(viewset=self), name="dashboard")

    @property
    def meetings_path(self):
        return path("meetings/", meeting_pages.MeetingListView.as_view(viewset=self), name="meetings")

    @property
    def meeting_path(self):
        return path("meetings/<int:pk>/", meeting_pages.MeetingView.as_view(viewset=self), name="meeting")

    @property
    def meeting_edit_path(self):
        return path("meetings/<int:pk>/edit/", meeting_pages.MeetingEditView.as_view(viewset=self), name="meeting_edit")

    @property
    def meeting_minutes_path(self):
        return path(
            "meetings/<int:pk>/minutes/", meeting_pages.MeetingMinutesView.as_view(viewset=self), name="meeting_minutes"
        )

    @property
    def orders_path(self):
        return path("orders/", coordination_pages.OrderListView.as_view(viewset=self), name="orders")

    @property
    def order_path(self):
        return path("orders/<int:pk>/", coordination_pages.OrderDetailView.as_view(viewset=self), name="order")

    @property
    def interviews_path(self):
        return path("interviews/", coordination_pages.InterviewListView.as_view(viewset=self), name="interviews")

    @property
    def interview_path(self):
        return path("interviews/<int:pk>/", coordination_pages.InterviewDetailView.as_view(viewset=self), name="interview")

    @property
    def issue_order_path(self):
        return path("projects/<int:project>/order/", coordination_pages.IssueOrderView.as_view(viewset=self), name="issue_order")

    @property
    def issue_task_order_path(self):
        return path("tasks/<int:pk>/order/", coordination_pages.IssueTaskOrderView.as_view(viewset=self), name="issue_task_order")

    @property
    def propose_interview_path(self):
        return path(
            "projects/<int:project>/interview/",
            coordination_pages.ProposeInterviewView.as_view(viewset=self),
            name="propose_interview",
        )

    @property
    def agenda_document_path(self):
        return path(
            "meetings/<int:pk>/agenda.<str:fmt>", document_pages.AgendaDocumentView.as_view(), name="agenda_document"
        )

    @property
    def minutes_document_path(self):
        return path(
            "meetings/<int:pk>/minutes.<str:fmt>", document_pages.MinutesDocumentView.as_view(), name="minutes_document"
        )

    @property
    def bulletin_document_path(self):
        return path(
            "bulletins/<int:pk>/bulletin.<str:fmt>",
            document_pages.BulletinDocumentView.as_view(),
            name="bulletin_document",
        )

    @property
    def report_status_document_path(self):
        return path(
            "reports/<str:month>/status.xlsx",
            document_pages.ReportStatusDocumentView.as_view(),
            name="report_status_document",
        )
