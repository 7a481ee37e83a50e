"""Every kind of message, registered in one place: its title, body, urgency and what it is for.

Titles and bodies are translatable strings with ``%(name)s`` placeholders filled from the
context the sender gives; a placeholder the context lacks is left empty, never an error.
"""

from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class MessageKind:
    key: str
    title: object
    body: object
    description: object
    urgent: bool = False


class _Lenient(dict):
    def __missing__(self, key):
        return ""


REGISTRY = {}


def register(kind):
    if kind.key in REGISTRY:
        raise ValueError(f"message kind {kind.key!r} is registered twice")
    REGISTRY[kind.key] = kind
    return kind


def get(key):
    try:
        return REGISTRY[key]
    except KeyError:
        raise KeyError(f"no message kind {key!r}; register it in notifications/messages.py") from None


def translatable(lazy_text):
    """A translatable string (from gettext_lazy or pgettext_lazy) as a context value that
    ``render`` translates into each recipient's language."""
    args = lazy_text.__reduce__()[1][1]  # how Django pickles a lazy string: (func, args, ...)
    if len(args) == 2:  # pgettext_lazy(context, message)
        return {"msgctxt": args[0], "msgid": args[1]}
    return {"msgid": args[0]}


def _value(value):
    """A context value as the reader reads it: translatable values (see ``translatable``) are
    translated, and their ``args`` (themselves values) filled in."""
    if isinstance(value, dict) and "msgid" in value:
        if value.get("msgctxt"):
            text = translation.pgettext(value["msgctxt"], value["msgid"])
        else:
            text = translation.gettext(value["msgid"])
        if value.get("args"):
            text = text % _Lenient({name: _value(arg) for name, arg in value["args"].items()})
        return text
    return value


def render(key, context, language):
    """(title, body) of a message in ``language``."""
    kind = get(key)
    with translation.override(language):
        values = _Lenient({name: _value(value) for name, value in (context or {}).items()})
        return str(kind.title) % values, str(kind.body) % values


for _kind in [
    MessageKind(
        "reminder",
        _("Reminder: %(task)s is due %(due)s"),
        _("%(task)s on %(case)s is due %(due)s. Please finish it on time."),
        _("A task's owner is reminded before and on the due day."),
    ),
    MessageKind(
        "escalated_to_you",
        _("Overdue and escalated to you: %(task)s"),
        _("%(task)s on %(case)s is %(days)s working days overdue (owner: %(owner)s). It has been escalated to you."),
        _("A unit head or a responsible leader is told that a task is overdue."),
        urgent=True,
    ),
    MessageKind(
        "supervision_order_issued",
        _("Supervision order %(number)s: %(case)s"),
        _("A supervision order was issued to %(unit)s about %(subject)s. Answer with a rectification plan by %(due)s."),
        _("A unit receives a supervision order (督办单)."),
        urgent=True,
    ),
    MessageKind(
        "interview_proposed",
        _("Interview proposed: %(leader)s"),
        _("An interview of %(leader)s about %(case)s is proposed: %(reason)s"),
        _("A responsible leader's interview (约谈) is proposed or scheduled."),
        urgent=True,
    ),
    MessageKind(
        "report_due",
        _("Monthly report due %(due)s: %(case)s"),
        _("The monthly progress report of %(case)s for %(month)s is due %(due)s."),
        _("A lead unit is asked for its monthly progress report."),
    ),
    MessageKind(
        "meeting_invitation",
        _("Invitation: %(meeting)s on %(when)s"),
        _("You are invited to %(meeting)s on %(when)s at %(place)s. The agenda is attached to the calendar entry."),
        _("Attendees are invited to the monthly scheduling meeting, with a calendar entry."),
    ),
    MessageKind(
        "bulletin_issued",
        _("Bulletin issued: %(title)s"),
        _("The bulletin %(title)s has been issued. Your unit ranks %(rank)s in its group."),
        _("Units receive the monthly bulletin (通报) with their score."),
    ),
    MessageKind(
        "docking_update",
        _("Financing docking: %(case)s with %(institution)s"),
        _("The docking of %(case)s with %(institution)s is now: %(state)s."),
        _("A financing docking moved a step."),
    ),
    MessageKind(
        "stage_changed",
        _("%(case)s moved to %(stage)s"),
        _("%(actor)s moved %(case)s from %(from_stage)s to %(stage)s. %(reason)s"),
        _("The lead unit's head and the responsible leader learn that their case changed stage."),
    ),
    MessageKind(
        "blocker_assigned",
        _("A blocker for your unit: %(blocker)s"),
        _("The secretariat assigned the blocker “%(blocker)s” on %(case)s to %(unit)s; due %(due)s."),
        _("A unit is told that it leads or contributes to a blocker."),
    ),
    MessageKind(
        "need_submitted",
        _("A financing need to review: %(case)s"),
        _("%(actor)s submitted a financing need of %(case)s for %(amount)s (%(type)s). Review it for the white list."),
        _("The secretariat is asked to review a financing need for the white list."),
    ),
    MessageKind(
        "need_reviewed",
        _("Your financing need: %(outcome)s"),
        _("The financing need of %(case)s for %(amount)s was %(outcome)s. %(note)s"),
        _("A case's lead unit learns that its financing need was published or sent back."),
    ),
    MessageKind(
        "reports_accepted",
        _("Reports accepted: %(accepted)s of %(total)s"),
        _("The monthly reports you accepted together are done: %(accepted)s of %(total)s accepted, %(skipped)s skipped."),
        _("The secretariat learns that the monthly reports it accepted together on the workers are done."),
    ),
]:
    register(_kind)
