"""The ladder's last rungs as a port: supervision orders (督办单) and interviews (约谈).

The escalation ladder issues orders at level 3 and proposes interviews at level 4; the overdue
board offers an order only for a task without one open; the monthly cycle proposes an interview
for a case red two months in a row, counts a case's overdue orders in its light and lists overdue
orders and proposed interviews on the meeting's agenda. They ask here. The coordination flows own
orders and interviews: they register the implementation when they start (``register``), so that
neither the engine nor the monthly cycle imports them.

Requests and facts are plain values; the implementation writes and reads its own records.
"""

from dataclasses import dataclass
from typing import Any, Protocol

# Who asked for an order or an interview: the ladder, or a rule (a case red for months).
LADDER = "ladder"
RULE = "rule"


@dataclass(frozen=True)
class OrderRequest:
    """A supervision order to issue to ``unit`` about an overdue task (its clock)."""

    project: Any  # the key project, or None for a task about no single case
    unit: Any
    clock: Any
    subject: str
    issued_at: Any
    respond_by: Any


@dataclass(frozen=True)
class InterviewRequest:
    """An interview of ``leader`` to propose, with the reason in the site's language."""

    project: Any
    unit: Any
    leader: Any
    reason: str
    source: str  # LADDER or RULE
    proposed_at: Any
    clock: Any = None


@dataclass(frozen=True)
class OverdueOrder:
    """An order overdue: not answered by its date, or answered and not fixed by the promised day."""

    pk: int
    number: str
    subject: str
    project: Any
    unit: Any
    answered: bool
    respond_by: Any
    fixed_by: Any


@dataclass(frozen=True)
class ProposedInterview:
    pk: int
    leader_name: str
    project: Any
    unit: Any
    reason: str


class Interventions(Protocol):
    answer_days: int  # working days a unit has to answer an order

    def issue_orders(self, requests: list[OrderRequest]) -> None: ...

    def propose_interviews(self, requests: list[InterviewRequest]) -> None: ...

    def overdue_orders_of_case(self, *, project_ref, before) -> Any:
        """A subquery: how many orders of the case ``project_ref`` (an ``OuterRef``) were still
        unanswered at ``before``."""

    def cases_with_unsettled_interviews(self, project_ids) -> set[int]: ...

    def open_orders_of_clocks(self, clock_ids) -> dict[int, str]:
        """The number of the earliest order still open about each of these task clocks that has one."""

    def clocks_with_unsettled_interviews(self, clock_ids) -> set[int]:
        """Those of these task clocks about which an interview is proposed and not yet settled."""

    def open_order_of_clock(self, *, clock_ref) -> Any:
        """A subquery: the pk of a supervision order still open (issued, or answered and not yet
        evaluated) about the task clock ``clock_ref`` (an ``OuterRef``), NULL when there is none;
        the overdue board reads it in its rows' query, to offer an order only where none is open."""

    def overdue_orders(self, *, now, today) -> list[OverdueOrder]:
        """Orders not answered by ``now``, or answered and not fixed by ``today``."""

    def proposed_interviews(self) -> list[ProposedInterview]: ...


_implementation = None


def register(implementation: Interventions):
    global _implementation
    _implementation = implementation


def interventions() -> Interventions:
    if _implementation is None:
        raise RuntimeError("No supervision orders and interviews are registered: is workflow.coordination installed?")
    return _implementation
