"""The pipeline before the key list, as data: industrial clusters, the reserve pool's entry
thresholds and the readiness checklist of each project type."""

from decimal import Decimal

from django.core.cache import cache
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .choices import Industry, PreworkKind, ProjectType

MONEY = {"max_digits": 16, "decimal_places": 2}


class IndustryCluster(models.Model):
    """A key industrial chain or cluster of the city (重点产业链/产业集群) that cases belong to."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    industry = models.CharField(_("industry"), max_length=30, choices=Industry.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("industrial cluster")
        verbose_name_plural = _("industrial clusters")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class EntryThreshold(models.Model):
    """The least total investment with which a project of a type enters the reserve pool."""

    project_type = models.CharField(_("project type"), max_length=20, choices=ProjectType.choices, unique=True)
    minimum_investment = models.DecimalField(
        _("minimum total investment (yuan)"), validators=[MinValueValidator(Decimal("0"))], **MONEY
    )

    class Meta:
        verbose_name = _("entry threshold")
        verbose_name_plural = _("entry thresholds")
        ordering = ["project_type"]
        constraints = [
            models.CheckConstraint(condition=Q(minimum_investment__gte=0), name="entry_threshold_non_negative"),
        ]

    def __str__(self):
        return f"{self.get_project_type_display()} ≥ {self.minimum_investment}"


class ReadinessNeed(models.TextChoices):
    SHOWN = "", _("Shown on the checklist only")
    TO_SELECT = "select", _("Done before selection into the key list")


class ReadinessItem(models.Model):
    """One line of a project type's readiness checklist: a pre-work kind, where it comes, and
    whether it must be done (or waived) before the case may be selected into the key list."""

    project_type = models.CharField(_("project type"), max_length=20, choices=ProjectType.choices)
    kind = models.CharField(_("pre-work kind"), max_length=30, choices=PreworkKind.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    needed = models.CharField(
        _("needed"), max_length=10, choices=ReadinessNeed.choices, default=ReadinessNeed.SHOWN, blank=True
    )

    class Meta:
        verbose_name = _("readiness checklist item")
        verbose_name_plural = _("readiness checklist")
        ordering = ["project_type", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project_type", "kind"], name="uniq_readiness_item_kind"),
        ]

    def __str__(self):
        return f"{self.get_project_type_display()}: {self.get_kind_display()}"


NEEDS_CACHE_KEY = "cases:readiness-needs"
# A change in the admin is seen at once by the process that made it (the cache is forgotten on save
# and delete) and by the others within this many seconds, or at once with a shared cache (Redis).
NEEDS_CACHE_SECONDS = 60


def readiness_needs():
    """{project type: [pre-work kinds in order]} that selection needs done or waived: read once a
    minute, not once per case (the agenda runs the selection guard over every candidate)."""
    needs = cache.get(NEEDS_CACHE_KEY)
    if needs is None:
        needs = {}
        rows = ReadinessItem.objects.filter(needed=ReadinessNeed.TO_SELECT).order_by("position", "id")
        for project_type, kind in rows.values_list("project_type", "kind"):
            needs.setdefault(project_type, []).append(kind)
        cache.set(NEEDS_CACHE_KEY, needs, NEEDS_CACHE_SECONDS)
    return needs


def forget_readiness_needs(**kwargs):
    cache.delete(NEEDS_CACHE_KEY)
