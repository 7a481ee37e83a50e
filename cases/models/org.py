"""The organisation: units, people with their roles, and leaders' responsibilities."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class InstitutionType(models.TextChoices):
    BANK = "bank", _("Bank")
    INSURER = "insurer", _("Insurer")
    FUND = "fund", _("Fund")
    GUARANTEE = "guarantee", _("Guarantee company")
    LEASING = "leasing", _("Leasing company")


class UnitKind(models.TextChoices):
    DISTRICT = "district", _("District or county")
    PARK = "park", _("Park")
    DEPARTMENT = "department", _("Department")
    PLATFORM = "platform", _("State platform company")
    INSTITUTION = "institution", _("Financial institution")
    ENTERPRISE = "enterprise", _("Enterprise")


class UnitGroup(models.TextChoices):
    """The two groups the monthly bulletin ranks units in."""

    TERRITORIAL = "territorial", _("Districts and parks")
    FUNCTIONAL = "functional", _("Departments and state platforms")
    EXTERNAL = "external", _("Not ranked")


UNIT_GROUP_OF_KIND = {
    UnitKind.DISTRICT: UnitGroup.TERRITORIAL,
    UnitKind.PARK: UnitGroup.TERRITORIAL,
    UnitKind.DEPARTMENT: UnitGroup.FUNCTIONAL,
    UnitKind.PLATFORM: UnitGroup.FUNCTIONAL,
    UnitKind.INSTITUTION: UnitGroup.EXTERNAL,
    UnitKind.ENTERPRISE: UnitGroup.EXTERNAL,
}


class Unit(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    head = models.ForeignKey(
        "cases.Person",
        verbose_name=_("head"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_units",
    )
    is_active = models.BooleanField(_("active"), default=True)
    institution_type = models.CharField(
        _("type of institution"), max_length=20, blank=True, default="",
        choices=InstitutionType.choices,
        help_text=_("For financial institutions; their branches are child units."),
    )
    webhooks = models.ManyToManyField(
        "notifications.Webhook",
        verbose_name=_("messenger webhooks"),
        blank=True,
        related_name="units",
        help_text=_("The unit's group robots: messages to its people are posted there too."),
    )

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name

    @property
    def group(self):
        return UNIT_GROUP_OF_KIND[self.kind]


class Role(models.TextChoices):
    SECRETARIAT = "secretariat", _("Secretariat")
    SUPERVISOR = "supervisor", _("Supervisor")
    UNIT_STAFF = "unit_staff", _("Unit staff")
    UNIT_HEAD = "unit_head", _("Unit head")
    LEADER = "leader", _("Responsible leader")
    INSTITUTION = "institution", _("Institution user")
    OWNER = "owner", _("Project owner")


class Rank(models.TextChoices):
    CITY_LEADER = "city_leader", _("City leader")
    UNIT_CHIEF = "unit_chief", _("Unit chief")
    UNIT_DEPUTY = "unit_deputy", _("Deputy unit chief")
    SECTION_CHIEF = "section_chief", _("Section chief")
    STAFF = "staff", _("Staff member")


class Person(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="person",
    )
    name = models.CharField(_("full name"), max_length=60)
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="people"
    )
    title = models.CharField(_("job title"), max_length=60, blank=True)
    rank = models.CharField(_("rank"), max_length=20, choices=Rank.choices, default=Rank.STAFF)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["unit__name", "name"]

    def __str__(self):
        return f"{self.name} ({self.unit.short_name or self.unit.name})"


class LeaderResponsibility(models.Model):
    """A leader answers for a unit (包抓/分管): escalations about the unit reach them."""

    leader = models.ForeignKey(
        Person,
        verbose_name=_("leader"),
        on_delete=models.CASCADE,
        related_name="responsibilities",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("unit"),
        on_delete=models.CASCADE,
        related_name="responsible_leaders",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("leader's responsibility")
        verbose_name_plural = _("leaders' responsibilities")
        constraints = [
            models.UniqueConstraint(fields=["leader", "unit"], name="uniq_leader_unit"),
        ]

    def __str__(self):
        return f"{self.leader.name} → {self.unit.name}"


class IdentitySource(models.TextChoices):
    OIDC = "oidc", _("Unified identity (OpenID Connect)")
    LDAP = "ldap", _("Office directory (LDAP)")


class IdentityMapping(models.Model):
    """A claim of a single sign-on (an OpenID Connect claim, or a directory group or
    attribute) that gives the person who signs in with it a unit, a role and a rank.

    Read at every sign-on; someone who matches no row is signed in with no unit and sees
    nothing until a row maps them.
    """

    source = models.CharField(_("sign-on"), max_length=10, choices=IdentitySource.choices)
    claim = models.CharField(
        _("claim"),
        max_length=100,
        help_text=_(
            "OpenID Connect: the name of a claim, such as groups or department. Office directory: "
            "group for the person's directory groups (by name or DN), or an attribute of their "
            "entry, such as departmentNumber."
        ),
    )
    value = models.CharField(
        _("value"),
        max_length=255,
        help_text=_("The claim's value, or one of its values, ignoring case."),
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="identity_mappings"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    rank = models.CharField(_("rank"), max_length=20, choices=Rank.choices, default=Rank.STAFF)
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        default=100,
        help_text=_("When several rows match one person, the row with the lowest number decides."),
    )

    class Meta:
        verbose_name = _("sign-on mapping")
        verbose_name_plural = _("sign-on mappings")
        ordering = ["source", "priority", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["source", "claim", "value"], name="uniq_identity_mapping"),
        ]

    def __str__(self):
        return f"{self.get_source_display()}: {self.claim} = {self.value} → {self.unit.name}"
