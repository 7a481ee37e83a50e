"""The API under /api/ in one namespace (``api``): the case core's routes, financing docking's
(whose projects' viewset extends the core's and takes its place), each viewset once."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from cases.api import urls as case_api
from cases.factors.api import urls as factors_api
from cases.financing.api import urls as financing_api


def _router(*route_lists):
    """One router over the route lists, in order; a later list's prefix replaces an earlier one's
    in its place."""
    routes = {}
    for route_list in route_lists:
        for prefix, viewset, basename in route_list:
            routes[prefix] = (viewset, basename)
    router = DefaultRouter()
    # No ".json" twins of the routes: their actions take no format argument (as the workflow API, a SimpleRouter).
    router.include_format_suffixes = False
    for prefix, (viewset, basename) in routes.items():
        router.register(prefix, viewset, basename=basename)
    return router


router = _router(case_api.ROUTES, financing_api.ROUTES, factors_api.ROUTES)

urlpatterns = [*case_api.PATHS, *financing_api.PATHS, *factors_api.PATHS, path("", include(router.urls))]
