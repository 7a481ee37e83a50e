"""Pages and API lists cost the same number of queries at 5, 100 and 2,000 projects."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.city import build_city
from cases.models import KeyProject, Stage

# Queries per request, the same at every size (a page's two extra are its toolbar's: the reader's unread count and the bell's count of
# their work): a query per row would add 25 (a page) or
# one per project (an export).
EXPECTED = {
    "project_list": 14,  # the filters' industrial clusters are one
    "project_list_filtered": 14,
    "pool_list": 16,  # the checklists and the rows' pre-work items are one each
    "pool_list_filtered": 16,
    "project_detail": 20,  # its financing needs are one; its factor requests two (the section, the items' guards)
    "project_export": 8,
    "prework_list": 11,
    "blocker_list": 12,
    "unit_list": 10,
    "people_list": 11,
    "api_project_list": 8,
    "api_project_detail": 10,
    "api_timeline": 12,
    "api_prework_list": 8,
    "api_blocker_list": 9,
}


def urls(city):
    detail = city.showcase_project_id
    return {
        "project_list": reverse("cases:projects:list"),
        "project_list_filtered": reverse("cases:projects:list") + "?stage=construction&stage=prework&_search=项目",
        "pool_list": reverse("cases:pool:list"),
        "pool_list_filtered": reverse("cases:pool:list")
        + "?stage=reserve&stage=idea&threshold=meets&_search=项目",
        "project_detail": reverse("cases:projects:detail", args=[detail]),
        "project_export": reverse("cases:projects:export"),
        "prework_list": reverse("cases:prework:list"),
        "blocker_list": reverse("cases:blockers:list"),
        "unit_list": reverse("org:units:list"),
        "people_list": reverse("org:people:list"),
        "api_project_list": reverse("api:project-list"),
        "api_project_detail": reverse("api:project-detail", args=[detail]),
        "api_timeline": reverse("api:project-timeline", args=[detail]),
        "api_prework_list": reverse("api:prework-item-list"),
        "api_blocker_list": reverse("api:blocker-list"),
    }


@pytest.mark.parametrize("projects", [5, 100, 2000])
def test_every_page_costs_a_constant_number_of_queries(db, client, projects):
    city = build_city(projects)
    # Every size has a case in the reserve pool and one idea (the smallest city may draw none).
    last_two = KeyProject.objects.exclude(pk=city.showcase_project_id).order_by("-pk")[:2]
    for project, stage in zip(last_two, [Stage.RESERVE, Stage.IDEA], strict=True):
        KeyProject.objects.filter(pk=project.pk).update(stage=stage)
    client.force_login(city.secretariat_user)
    counts = {}
    for name, url in urls(city).items():
        client.get(url)  # warm caches (content types, sessions) as a running server has them
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(queries)
    assert counts == EXPECTED
