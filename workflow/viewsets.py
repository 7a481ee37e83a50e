"""The coordination application: viewflow's shared inbox, queue and archive over our four flows,
with the overdue board, supervision orders, interviews and each task's deadline page."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.flow import WorkflowAppViewset

from cases import permissions as case_permissions

from . import pages
from .flows import BlockerFlow, InterviewFlow, PreworkFlow, SupervisionFlow


class CoordinationApplication(WorkflowAppViewset):
    title = _("Tasks")
    icon = "assignment"
    app_name = "workflow"
    base_template_name = "kp/base_page.html"
    menu_template_name = "workflow/menu.html"
    inbox_view_class = pages.InboxView
    queue_view_class = pages.QueueView
    archive_view_class = pages.ArchiveView

    def __init__(self, **kwargs):
        super().__init__(
            flow_viewsets=[
                pages.ScopedFlowViewset(BlockerFlow, icon="report_problem"),
                pages.ScopedFlowViewset(PreworkFlow, icon="fact_check"),
                pages.ScopedFlowViewset(SupervisionFlow, icon="gavel"),
                pages.ScopedFlowViewset(InterviewFlow, icon="record_voice_over"),
            ],
            **kwargs,
        )

    def has_view_permission(self, user, obj=None):
        return not user.is_authenticated or case_permissions.role_of(user) in case_permissions.INTERNAL

    @property
    def board_path(self):
        return path("overdue/", pages.OverdueBoardView.as_view(viewset=self), name="overdue")

    @property
    def board_export_path(self):
        return path("overdue/export.xlsx", pages.OverdueExportView.as_view(), name="overdue_export")

    @property
    def clock_path(self):
        return path("tasks/<int:pk>/", pages.TaskClockView.as_view(viewset=self), name="task_clock")

    @property
    def pause_path(self):
        return path("tasks/<int:pk>/clock/", pages.PauseView.as_view(), name="task_pause")

    @property
    def lights_path(self):
        return path("lights/", pages.LightsView.as_view(viewset=self), name="lights")

    @property
    def orders_path(self):
        return path("orders/", pages.OrderListView.as_view(viewset=self), name="orders")

    @property
    def order_path(self):
        return path("orders/<int:pk>/", pages.OrderDetailView.as_view(viewset=self), name="order")

    @property
    def interviews_path(self):
        return path("interviews/", pages.InterviewListView.as_view(viewset=self), name="interviews")

    @property
    def interview_path(self):
        return path("interviews/<int:pk>/", pages.InterviewDetailView.as_view(viewset=self), name="interview")

    @property
    def issue_order_path(self):
        return path("projects/<int:project>/order/", pages.IssueOrderView.as_view(viewset=self), name="issue_order")

    @property
    def propose_interview_path(self):
        return path(
            "projects/<int:project>/interview/",
            pages.ProposeInterviewView.as_view(viewset=self),
            name="propose_interview",
        )
