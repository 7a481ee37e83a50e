"""What the domains above plug into the engine when they start: their flows, and who besides a
task's unit and case may see it.

The engine lists a person's inbox and queue over every registered flow, and scopes clocks and
processes with the scopes registered here; it imports no flow of its own. Each domain's app
registers in ``ready()``.

The domains also add to "my work" (further tasks a person may act on) and to the home page (the
lines of their work waiting for a role).
"""

from dataclasses import dataclass

_flows = []
_clock_scopes = []


def register_flows(*flow_classes):
    """Add flows to those the inbox, the queue and the task pages read."""
    for flow_class in flow_classes:
        if flow_class not in _flows:
            _flows.append(flow_class)


def flow_classes():
    return list(_flows)


def add_clock_scope(scope):
    """``scope(user, person)`` returns a filter on ``TaskClock`` of further clocks an internal
    person may see (for example the tasks of the meeting decisions they own)."""
    if scope not in _clock_scopes:
        _clock_scopes.append(scope)


def clock_scopes():
    return list(_clock_scopes)


@dataclass(frozen=True)
class HomeLine:
    """One line of a role's home page: what waits (a sentence), where to do it, how many."""

    text: str
    url: str
    count: int | None = None


_work_scopes = []
_home_panels = []


def add_work_scope(scope):
    """``scope(user, person)`` returns a filter on viewflow's ``Task`` of further open tasks a person
    may act on now besides theirs and their queue's (a project owner's monthly reports), or None."""
    if scope not in _work_scopes:
        _work_scopes.append(scope)


def work_scopes():
    return list(_work_scopes)


def add_home_panel(panel):
    """``panel(user)`` returns the lines a person's home page shows of a domain's work waiting for
    their role (the secretariat's cycle step of the day, a supervisor's overdue orders): a list of
    ``HomeLine``, empty when there is nothing for them."""
    if panel not in _home_panels:
        _home_panels.append(panel)


def home_panels():
    return list(_home_panels)
