"""API routes of the coordination engine, under /api/ beside the cases'."""

from rest_framework.routers import SimpleRouter

from .views import LightViewSet, TaskViewSet

router = SimpleRouter()
router.register("tasks", TaskViewSet, basename="task")
router.register("lights", LightViewSet, basename="light")

urlpatterns = router.urls
