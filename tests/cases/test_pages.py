"""Every page as every role: what each may open, and 403 or 404 (never the data) elsewhere."""

import pytest
from django.urls import reverse

from cases.models import Stage
from tests.cases.factories import BlockerFactory, PreworkItemFactory, set_stage
from tests.cases.financing.factories import FinancingNeedFactory

OK, FORBIDDEN, NOT_FOUND = 200, 403, 404


@pytest.fixture
def world(org):
    set_stage(org.project, Stage.PREWORK)
    org.item = PreworkItemFactory(project=org.project, approving_unit=org.department)
    org.other_item = PreworkItemFactory(project=org.other_project, approving_unit=org.other_unit)
    org.blocker = BlockerFactory(project=org.project, reported_by=org.staff.user, reporting_unit=org.park)
    org.other_blocker = BlockerFactory(project=org.other_project)
    org.need = FinancingNeedFactory(project=org.project)
    org.other_need = FinancingNeedFactory(project=org.other_project)
    return org


def pages(w):
    p, o = w.project.pk, w.other_project.pk
    return {
        "home": reverse("index"),
        "list": reverse("cases:projects:list"),
        "detail": reverse("cases:projects:detail", args=[p]),
        "other detail": reverse("cases:projects:detail", args=[o]),
        "edit": reverse("cases:projects:change", args=[p]),
        "other edit": reverse("cases:projects:change", args=[o]),
        "add project": reverse("cases:projects:add"),
        "select page": reverse("cases:projects:transition", args=[p, "open_docking"]),
        "other select page": reverse("cases:projects:transition", args=[o, "select"]),
        "add prework": reverse("cases:projects:add_prework", args=[p]),
        "other add prework": reverse("cases:projects:add_prework", args=[o]),
        "report blocker": reverse("cases:projects:report_blocker", args=[p]),
        "other report blocker": reverse("cases:projects:report_blocker", args=[o]),
        "prework edit": reverse("cases:prework:change", args=[w.item.pk]),
        "other prework edit": reverse("cases:prework:change", args=[w.other_item.pk]),
        "prework start": reverse("cases:prework:transition", args=[w.item.pk, "start"]),
        "other prework start": reverse("cases:prework:transition", args=[w.other_item.pk, "start"]),
        "blocker edit": reverse("cases:blockers:change", args=[w.blocker.pk]),
        "other blocker assign": reverse("cases:blockers:transition", args=[w.other_blocker.pk, "assign"]),
        "prework list": reverse("cases:prework:list"),
        "blocker list": reverse("cases:blockers:list"),
        "units": reverse("org:units:list"),
        "people": reverse("org:people:list"),
        "import": reverse("cases:projects:import"),
        "export": reverse("cases:projects:export"),
        "need": reverse("financing:need_detail", args=[w.need.pk]),
        "other need": reverse("financing:need_detail", args=[w.other_need.pk]),
        "own needs": reverse("financing:own_needs"),
    }


F, N = FORBIDDEN, NOT_FOUND
# role: pages that are not 200 OK, with the answer they get; every other page opens.
# The financing needs' pages follow the case's scope; "own needs" is an owner enterprise's own list.
REFUSED = {
    "secretariat": {"own needs": F},
    "supervisor": {
        "edit": F, "other edit": F, "add project": F, "select page": F, "other select page": F,
        "add prework": F, "other add prework": F, "report blocker": F, "other report blocker": F,
        "prework edit": F, "other prework edit": F, "prework start": F, "other prework start": F,
        "blocker edit": F, "other blocker assign": F, "import": F, "own needs": F,
    },
    "head": {
        "other detail": N, "other edit": N, "add project": F, "other select page": N,
        "other add prework": N, "other report blocker": N, "other prework edit": N,
        "other prework start": N, "other blocker assign": N, "blocker edit": F, "import": F,
        "other need": N, "own needs": F,
    },
    "staff": {
        "other detail": N, "other edit": N, "add project": F, "select page": F, "other select page": N,
        "other add prework": N, "other report blocker": N, "other prework edit": N,
        "other prework start": N, "other blocker assign": N, "import": F, "other need": N, "own needs": F,
    },
    "leader": {
        "other detail": N, "edit": F, "other edit": N, "add project": F, "select page": F,
        "other select page": N, "add prework": F, "other add prework": N, "report blocker": F,
        "other report blocker": N, "prework edit": F, "other prework edit": N, "prework start": F,
        "other prework start": N, "blocker edit": F, "other blocker assign": N, "import": F,
        "other need": N, "own needs": F,
    },
    "owner": {
        "other detail": N, "edit": F, "other edit": N, "add project": F, "select page": F,
        "other select page": N, "add prework": F, "other add prework": N,
        "other report blocker": N, "prework edit": F, "other prework edit": N, "prework start": F,
        "other prework start": N, "blocker edit": F, "other blocker assign": N,
        "units": F, "people": F, "import": F, "other need": N,
    },
}
# A need not on the white list is out of an institution's sight, like any case.
INSTITUTION_NOT_FOUND = {"need", "other need"}


@pytest.mark.parametrize("role", ["secretariat", "supervisor", "head", "staff", "leader", "owner", "bank"])
def test_each_role_opens_its_pages_and_is_refused_the_rest(world, as_user, role):
    client = as_user(getattr(world, role))
    answers = {name: client.get(url).status_code for name, url in pages(world).items()}
    if role == "bank":  # an institution user has no case pages at all; the home page sends them to their portal
        expected = {
            name: 302 if name == "home" else NOT_FOUND if name in INSTITUTION_NOT_FOUND else FORBIDDEN
            for name in answers
        }
    else:
        expected = {name: REFUSED[role].get(name, OK) for name in answers}
    assert answers == expected


@pytest.mark.parametrize("role", ["head", "staff", "leader", "owner"])
def test_a_refused_page_does_not_show_the_other_cases_data(world, as_user, role):
    client = as_user(getattr(world, role))
    for url in (
        reverse("cases:projects:list"),
        reverse("cases:prework:list"),
        reverse("cases:blockers:list"),
        reverse("cases:projects:detail", args=[world.other_project.pk]),
        reverse("financing:need_detail", args=[world.other_need.pk]),
        reverse("financing:own_needs"),
    ):
        assert world.other_project.code not in client.get(url).content.decode()


def test_a_page_lists_only_the_readers_cases(world, as_user):
    body = as_user(world.head).get(reverse("cases:projects:list")).content.decode()
    assert world.project.code in body and world.other_project.code not in body
    body = as_user(world.secretariat).get(reverse("cases:projects:list")).content.decode()
    assert world.project.code in body and world.other_project.code in body
