"""What the domains above plug into the engine when they start: their flows, and who besides a
task's unit and case may see it.

The engine lists a person's inbox and queue over every registered flow, and scopes clocks and
processes with the scopes registered here; it imports no flow of its own. Each domain's app
registers in ``ready()``.
"""

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
