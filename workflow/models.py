"""The ``workflow`` app's models module: the models themselves live in the domains' rooms
(``workflow.engine.models``, ``workflow.coordination.models``, ``workflow.monthly.models``) with
``app_label = "workflow"``, so that their tables, content types, permissions and migrations
(here in ``workflow/migrations``) stay where they were. Nothing imports this module; Django
needs it to exist for an app that owns models."""
