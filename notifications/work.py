"""A person's work waiting, as the layer above counts it (workflow's "my work"): the daily digest
opens with it, the same figures as the home page.

Notifications sit below the cases and the workflow and import neither; the workflow registers its
counter at start-up (``set_counter``)."""

from dataclasses import dataclass

_counter = None


@dataclass(frozen=True)
class WorkCounts:
    total: int
    due_soon: int
    overdue: int
    link: str


def set_counter(counter):
    """``counter(user)`` returns a ``WorkCounts`` (or None) of the person's work waiting."""
    global _counter
    _counter = counter


def counts(user):
    if _counter is None or user is None or not getattr(user, "is_authenticated", False):
        return None
    return _counter(user)
