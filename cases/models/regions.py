"""The official project code (项目代码) of the national online approval and supervision platform,
and the city's administrative region codes it is checked against."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from .org import Unit

# ASCII digits only: Python's \d also takes full-width and other scripts' digits.
PROJECT_CODE_PATTERN = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}-\d{6}$", re.ASCII)
PROJECT_CODE_EXAMPLE = "2603-369902-04-01-583921"
# The platform's current code (the 2020 rules, GB/T 40058-2021) is issued since November 2020.
CURRENT_FORMAT_SINCE = (2020, 11)
OLD_FORMAT_YEARS = range(2000, 2021)


class RegionCode(models.Model):
    """A six-digit administrative region code of the city (行政区划代码), as the platform writes it
    in the second part of a project code. Only codes in this table are accepted in project codes."""

    code = models.CharField(
        _("region code"),
        max_length=6,
        unique=True,
        validators=[RegexValidator(r"^[0-9]{6}$", _("A region code is six digits."))],
    )
    name = models.CharField(_("name"), max_length=60)
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("district or county"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="region_codes",
        limit_choices_to={"kind": "district"},
        help_text=_("The district or county unit of this region, if it is one."),
    )

    class Meta:
        verbose_name = _("region code")
        verbose_name_plural = _("region codes")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


def _time_problem(time_part, today):
    """Why the four-digit time part of a project code is not plausible, or None.

    Two readings are accepted. The current code (issued since November 2020) starts with the
    month of issue as YYMM: month 01 to 12, not before November 2020 and not after the current
    month. A code issued before November 2020 starts with the year of issue: 2000 to 2020. Some
    parts (2011, 2012) read both ways; either reading that is plausible will do. The last digit of
    the code is the platform's check digit, whose rule is not public: it is not checked.
    """
    number = int(time_part)
    if number in OLD_FORMAT_YEARS:
        return None
    year, month = 2000 + number // 100, number % 100
    if not 1 <= month <= 12 or (year, month) < CURRENT_FORMAT_SINCE:
        return _(
            "The time part %(time)s of the project code is neither a month since November 2020 "
            "written YYMM (month 01 to 12) nor a year of issue from 2000 to 2020."
        ) % {"time": time_part}
    if (year, month) > (today.year, today.month):
        return _("The time part %(time)s of the project code is a month still to come.") % {"time": time_part}
    return None


def project_code_problems(value, *, region_codes=None, today=None):
    """What is wrong with ``value`` as a platform project code, in words (an empty list when it is
    right): its shape, its time part, and its region, which must be one of ``region_codes`` (read
    from the table when not given, so that a caller checking many codes reads it once)."""
    value = value or ""
    if not PROJECT_CODE_PATTERN.match(value):
        return [
            _(
                "“%(value)s” is not a project code of the national approval platform: it has 24 "
                "characters like %(example)s (4, 6, 2, 2 and 6 digits joined by hyphens)."
            )
            % {"value": value, "example": PROJECT_CODE_EXAMPLE}
        ]
    problems = []
    time_problem = _time_problem(value[:4], today or timezone.localdate())
    if time_problem:
        problems.append(time_problem)
    region = value[5:11]
    if region_codes is None:
        known = RegionCode.objects.filter(code=region).exists()
    else:
        known = region in region_codes
    if not known:
        problems.append(
            _("The region code %(region)s of the project code is not one of the city's region codes.")
            % {"region": region}
        )
    return problems


@deconstructible
class ProjectCodeValidator:
    """The one check of a project code: the model field's validator, so that the services (and
    through them the forms and the Excel import) and the API's serializer all ask it."""

    code = "project_code"

    def __call__(self, value):
        problems = project_code_problems(value)
        if problems:
            raise ValidationError(problems, code=self.code)

    def __eq__(self, other):
        return isinstance(other, ProjectCodeValidator)


validate_project_code = ProjectCodeValidator()
