"""What the agenda, the minutes and the bulletin say, as official documents (``layout``)."""


from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from cases.models import Person, UnitGroup
from workflow.engine.calendar import WorkingCalendar

from ..models import (
    AgendaItem,
    AgendaSection,
    Bulletin,
    Decision,
    Meeting,
    ScoreMeasure,
    UnitScore,
)
from .layout import (
    DASH,
    GROUP_ORDER,
    MEASURE_ORDER,
    RANK_ORDER,
    Grid,
    OfficialDocument,
    Para,
    Section,
    _chinese,
    _date,
    _datetime,
    _figure,
    _list,
    _month,
    document_issuer,
    item_heading,
    section_heading,
)


def _people(meeting):
    people = list(meeting.attendees.all())
    return sorted(people, key=lambda person: (RANK_ORDER.get(person.rank, len(RANK_ORDER)), person.name))


def _chair(meeting):
    return Person.objects.filter(pk=meeting.chair_id).first() if meeting.chair_id else None


def _items(meeting):
    """The items kept on the agenda, in their order; dropped ones are left out."""
    return list(
        AgendaItem.objects.filter(meeting=meeting, dropped=False).select_related("project").order_by("position", "pk")
    )


def _by_section(items):
    """Items grouped by section, sections in the order of their first item."""
    grouped = {}
    for item in items:
        grouped.setdefault(item.section, []).append(item)
    return grouped


def _section_label(section):
    try:
        return str(AgendaSection(section).label)
    except ValueError:
        return section


def _meeting_lines(meeting, chair):
    lines = [Para(_datetime(meeting.scheduled_at), "line", _("Time"))]
    if meeting.place:
        lines.append(Para(meeting.place, "line", _("Place")))
    if chair:
        lines.append(Para(chair.name, "line", _("Chair")))
    people = _people(meeting)
    if people:
        lines.append(Para(_list(person.name for person in people), "line", _("Attending leaders")))
    units = list(meeting.attending_units.all())
    if units:
        lines.append(Para(_list(unit.name for unit in units), "line", _("Attending units")))
    return lines


def _item_cell(item):
    if not item.project_id:
        return item.title
    project = item.project
    lines = [item.title]
    if project.code not in item.title:
        lines.append(f"{project.code} {project.name}")
    if project.project_code:
        lines.append(_("Project code %(code)s") % {"code": project.project_code})
    return "\n".join(lines)


def agenda_document(meeting):
    """The agenda: the meeting's time, place and people, then its items section by section."""
    chair = _chair(meeting)
    document = OfficialDocument(
        issuer=document_issuer(),
        number=meeting.number,
        title=_("Agenda of %(title)s") % {"title": meeting.title},
        date=_date(meeting.published_at or meeting.drafted_at),
        mark=_("Draft") if meeting.state == Meeting.State.DRAFT else "",
        preamble=_meeting_lines(meeting, chair),
        chinese=_chinese(),
    )
    grouped = _by_section(_items(meeting))
    for number, (section, items) in enumerate(grouped.items(), start=1):
        rows = [
            [str(index), _item_cell(item), item.detail, item.note]
            for index, item in enumerate(items, start=1)
        ]
        header = [pgettext("row number", "No."), _("Item"), _("Detail"), _("Note")]
        document.sections.append(
            Section(section_heading(number, _section_label(section)), [Grid(header, rows, [8, 40, 62, 46])])
        )
    if not grouped:
        document.preamble.append(Para(_("The agenda has no items.")))
    return document


def _decisions(meeting):
    return list(
        Decision.objects.filter(meeting=meeting).select_related("owner", "unit", "project").order_by("pk")
    )


def _due(decision):
    # A deadline is the end of its working day, stored as the next midnight: write that day.
    return _date(WorkingCalendar.deadline_day(decision.due_at)) if decision.due_at else DASH


def minutes_document(meeting):
    """The minutes: what was said on each item kept on the agenda, and the decisions taken."""
    chair = _chair(meeting)
    document = OfficialDocument(
        issuer=document_issuer(),
        number=meeting.number,
        title=_("Minutes of %(title)s") % {"title": meeting.title},
        date=_date(meeting.minuted_at or meeting.scheduled_at),
        mark=_("Draft") if meeting.state != Meeting.State.MINUTED else "",
        preamble=_meeting_lines(meeting, chair),
        chinese=_chinese(),
    )
    document.preamble.append(
        Para(
            _("The meeting reviewed the work on the key projects in %(month)s and agreed as follows.")
            % {"month": _month(meeting.month)}
        )
    )
    decisions = _decisions(meeting)
    by_item = {}
    for decision in decisions:
        by_item.setdefault(decision.item_id, []).append(decision)
    grouped = _by_section(_items(meeting))
    number = 0
    for number, (section, items) in enumerate(grouped.items(), start=1):
        blocks = []
        for index, item in enumerate(items, start=1):
            blocks.append(Para(item_heading(index, item.title), "subheading"))
            blocks.append(Para(item.minutes or _("No minutes were recorded for this item.")))
            for decision in by_item.get(item.pk, []):
                blocks.append(
                    Para(
                        _("Decided: %(text)s (%(owner)s, %(unit)s, within %(days)s working days).")
                        % {"text": decision.text, "owner": decision.owner.name, "unit": decision.unit.name,
                           "days": decision.working_days}
                    )
                )
        document.sections.append(Section(section_heading(number, _section_label(section)), blocks))
    heading = section_heading(number + 1, _("Decisions"))
    if decisions:
        header = [
            pgettext("row number", "No."), _("Decision"), pgettext("decision", "Owner"), _("Unit"),
            _("Working days"), pgettext("deadline", "Due"), _("State"),
        ]
        rows = [
            [
                str(index), decision.text, decision.owner.name, decision.unit.name,
                str(decision.working_days), _due(decision), str(decision.get_state_display()),
            ]
            for index, decision in enumerate(decisions, start=1)
        ]
        document.sections.append(Section(heading, [Grid(header, rows, [8, 52, 18, 26, 14, 22, 16], frozenset({4}))]))
    else:
        document.sections.append(Section(heading, [Para(_("The meeting took no decisions."))]))
    return document


def _scores(bulletin):
    scores = list(UnitScore.objects.filter(bulletin=bulletin).select_related("unit"))
    return sorted(
        scores,
        key=lambda score: (
            GROUP_ORDER.get(score.group, len(GROUP_ORDER)),
            score.group,
            score.rank is None,
            score.rank or 0,
            score.unit.name,
        ),
    )


def _measures(scores):
    """The measures the scores hold, in ScoreMeasure's order."""
    keys = {key for score in scores for key in (score.measures or {})}
    return sorted(keys, key=lambda key: (MEASURE_ORDER.get(key, len(MEASURE_ORDER)), key))


def _measure_label(measure):
    try:
        return str(ScoreMeasure(measure).label)
    except ValueError:
        return measure


def _group_label(group):
    try:
        return str(UnitGroup(group).label)
    except ValueError:
        return group


def _measure_value(score, measure):
    """A measure's score, or the word "exempt", or None when there was nothing to score."""
    value = (score.measures or {}).get(measure) or {}
    if value.get("exempt"):
        return _("Exempt")
    return value.get("score")


def _by_group(scores):
    grouped = {}
    for score in scores:
        grouped.setdefault(score.group, []).append(score)
    return grouped


def _listed(scores, listing):
    return [score for score in scores if score.listing == listing]


def bulletin_document(bulletin):
    """The bulletin: how units were scored, the ranking in each group, the red and black lists."""
    scores = _scores(bulletin)
    measures = _measures(scores)
    month = _month(bulletin.month)
    document = OfficialDocument(
        issuer=document_issuer(),
        number=bulletin.number,
        title=_("Bulletin on the units' work on key projects in %(month)s") % {"month": month},
        date=_date(bulletin.issued_at or bulletin.computed_at),
        mark=_("Draft") if bulletin.state == Bulletin.State.DRAFT else "",
        chinese=_chinese(),
    )
    document.preamble.append(
        Para(
            _(
                "The units were scored for %(month)s on each measure from 0 to 100, weighted, and ranked "
                "within their group; a measure exempted for force majeure is left out of a unit's score. "
                "The measures: %(measures)s."
            )
            % {"month": month, "measures": _list(_measure_label(measure) for measure in measures) or DASH}
        )
    )
    number = 0
    rank_header = [pgettext("ranking", "Rank"), _("Unit")] + [_measure_label(m) for m in measures] + [_("Score")]
    measure_width = max(10, int(96 / max(len(measures), 1)))
    widths = [10, 30] + [measure_width] * len(measures) + [16]
    figures = frozenset(range(2, len(measures) + 3))
    for number, (group, group_scores) in enumerate(_by_group(scores).items(), start=1):
        rows = [
            [str(score.rank or DASH), score.unit.name]
            + [_measure_cell(_measure_value(score, measure)) for measure in measures]
            + [_figure(score.total)]
            for score in group_scores
        ]
        document.sections.append(
            Section(
                section_heading(number, _("Ranking of %(group)s") % {"group": _group_label(group)}),
                [Grid(rank_header, rows, widths, figures)],
            )
        )
    lists = [
        (UnitScore.Listing.RED, _("Red list"), _("No unit is on the red list this month.")),
        (UnitScore.Listing.BLACK, _("Black list"), _("No unit is on the black list this month.")),
    ]
    for offset, (listing, label, empty) in enumerate(lists, start=1):
        listed = _listed(scores, listing)
        heading = section_heading(number + offset, label)
        if not listed:
            document.sections.append(Section(heading, [Para(empty)]))
            continue
        header = [pgettext("row number", "No."), _("Unit"), _("Group"), _("Score"), pgettext("ranking", "Rank")]
        rows = [
            [str(index), score.unit.name, _group_label(score.group), _figure(score.total), str(score.rank or DASH)]
            for index, score in enumerate(listed, start=1)
        ]
        document.sections.append(Section(heading, [Grid(header, rows, [10, 50, 50, 24, 22], frozenset({3, 4}))]))
    if not scores:
        document.preamble.append(Para(_("No unit was scored this month.")))
    return document


def _measure_cell(value):
    return value if isinstance(value, str) else _figure(value)
