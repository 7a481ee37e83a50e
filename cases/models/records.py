"""Records about a case with their own small state machines: pre-work items and blockers."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, transition

from .. import guards
from .base import VersionedModel
from .choices import BlockerCategory, BlockerState, PreworkKind, PreworkState
from .org import Unit
from .projects import GOVERNMENT_UNITS, KeyProject, transition_permission


class PreworkItem(VersionedModel):
    """An approval or factor guarantee a case needs before construction (前期手续/要素保障)."""

    project = models.ForeignKey(
        KeyProject, verbose_name=_("key project"), on_delete=models.PROTECT, related_name="prework_items"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=PreworkKind.choices)
    title = models.CharField(
        _("title"), max_length=120, blank=True, help_text=_("Needed when the kind is Other.")
    )
    required = models.BooleanField(_("required"), default=True)
    approving_unit = models.ForeignKey(
        Unit,
        verbose_name=_("approving unit"),
        on_delete=models.PROTECT,
        related_name="prework_items",
        limit_choices_to={"kind__in": ["department", "district", "park"]},
    )
    statutory_days = models.PositiveSmallIntegerField(
        _("statutory time limit (working days)"),
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    state = FSMField(
        _("state"), default=PreworkState.PENDING, choices=PreworkState.choices, protected=True
    )
    started_on = models.DateField(_("started on"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    document_number = models.CharField(_("document number"), max_length=80, blank=True)
    waiver_reason = models.TextField(_("reason for waiving"), blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("pre-work item")
        verbose_name_plural = _("pre-work items")
        ordering = ["project", "id"]
        indexes = [models.Index(fields=["approving_unit", "state"])]

    def __str__(self):
        return f"{self.project.code} · {self.label}"

    def clean(self):
        if self.kind == PreworkKind.OTHER and not self.title.strip():
            raise ValidationError({"title": _("An item of kind Other needs a title.")})

    @property
    def label(self):
        if self.kind == PreworkKind.OTHER and self.title:
            return self.title
        return self.get_kind_display()

    @transition(field=state, source=PreworkState.PENDING, target=PreworkState.IN_PROGRESS,
                permission=transition_permission("start"),
                custom={"label": pgettext_lazy("pre-work", "Start"), "guard": guards.no_guard})
    def start(self):
        pass

    @transition(field=state, source=[PreworkState.PENDING, PreworkState.IN_PROGRESS],
                target=PreworkState.DONE, conditions=[guards.passes(guards.prework_done)],
                permission=transition_permission("complete"),
                custom={"label": _("Mark done"), "guard": guards.prework_done})
    def complete(self):
        pass

    @transition(field=state, source=[PreworkState.PENDING, PreworkState.IN_PROGRESS],
                target=PreworkState.WAIVED,
                permission=transition_permission("waive"),
                custom={"label": _("Waive"), "guard": guards.no_guard, "reason_required": True})
    def waive(self):
        pass

    @transition(field=state, source=[PreworkState.DONE, PreworkState.WAIVED],
                target=PreworkState.IN_PROGRESS,
                permission=transition_permission("reopen"),
                custom={"label": _("Reopen"), "guard": guards.no_guard, "reason_required": True})
    def reopen(self):
        self.done_on = None
        self.waiver_reason = ""


class Blocker(VersionedModel):
    """A difficult problem that holds a case back (问题/困难)."""

    project = models.ForeignKey(
        KeyProject, verbose_name=_("key project"), on_delete=models.PROTECT, related_name="blockers"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=20, choices=BlockerCategory.choices)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    reporting_unit = models.ForeignKey(
        Unit,
        verbose_name=_("reporting unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reported_blockers",
        editable=False,
    )
    lead_unit = models.ForeignKey(
        Unit,
        verbose_name=_("lead unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_blockers",
        limit_choices_to=GOVERNMENT_UNITS,
    )
    cooperating_units = models.ManyToManyField(
        Unit,
        verbose_name=_("cooperating units"),
        blank=True,
        related_name="cooperating_blockers",
        limit_choices_to=GOVERNMENT_UNITS,
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    state = FSMField(
        _("state"), default=BlockerState.REPORTED, choices=BlockerState.choices, protected=True
    )
    resolution = models.TextField(_("resolution"), blank=True)
    rejection_reason = models.TextField(_("reason for rejecting"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed out at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("blocker")
        verbose_name_plural = _("blockers")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["lead_unit", "state"]),
            models.Index(fields=["project", "state"]),
        ]

    def __str__(self):
        return f"{self.project.code} · {self.title}"

    @transition(field=state, source=BlockerState.REPORTED, target=BlockerState.ASSIGNED,
                conditions=[guards.passes(guards.blocker_assign)],
                permission=transition_permission("assign"),
                custom={"label": pgettext_lazy("blocker", "Assign"), "guard": guards.blocker_assign})
    def assign(self):
        pass

    @transition(field=state, source=BlockerState.ASSIGNED, target=BlockerState.RESOLVED,
                conditions=[guards.passes(guards.blocker_resolve)],
                permission=transition_permission("resolve"),
                custom={"label": _("Resolve"), "guard": guards.blocker_resolve})
    def resolve(self):
        pass

    @transition(field=state, source=BlockerState.RESOLVED, target=BlockerState.CLOSED_OUT,
                permission=transition_permission("close_out"),
                custom={"label": _("Close out"), "guard": guards.no_guard})
    def close_out(self):
        pass

    @transition(field=state, source=BlockerState.RESOLVED, target=BlockerState.ASSIGNED,
                permission=transition_permission("send_back"),
                custom={"label": _("Send back"), "guard": guards.no_guard, "reason_required": True})
    def send_back(self):
        pass

    @transition(field=state, source=BlockerState.REPORTED, target=BlockerState.REJECTED,
                conditions=[guards.passes(guards.blocker_merge)],
                permission=transition_permission("merge"),
                custom={"label": _("Merge into another blocker"), "guard": guards.blocker_merge})
    def merge(self):
        pass

    @transition(field=state, source=[BlockerState.REPORTED, BlockerState.ASSIGNED],
                target=BlockerState.REJECTED,
                permission=transition_permission("reject"),
                custom={"label": _("Reject"), "guard": guards.no_guard, "reason_required": True})
    def reject(self):
        pass


class BlockerInput(models.Model):
    """What a cooperating unit contributes to a blocker before the lead unit resolves it."""

    blocker = models.ForeignKey(Blocker, verbose_name=_("blocker"), on_delete=models.CASCADE, related_name="inputs")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("input"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cooperating unit's input")
        verbose_name_plural = _("cooperating units' inputs")
        ordering = ["blocker", "created_at"]

    def __str__(self):
        return f"{self.blocker} · {self.unit}"
