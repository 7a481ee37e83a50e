"""The kinds of message: registered in one place, rendered in the recipient's language."""

import json
import re

import pytest
from django.utils import translation

from cases.models import Stage
from notifications import messages

# What each kind's sender gives, in ASCII tokens: any Chinese in a rendering is the translation's.
CONTEXTS = {
    "reminder": {"task": "TASK-A", "case": "CASE-1", "due": "2026-06-05"},
    "escalated_to_you": {"task": "TASK-B", "case": "CASE-2", "days": "D7", "owner": "OWNER-X"},
    "supervision_order_issued": {
        "number": "NO-2026-3",
        "case": "CASE-3",
        "unit": "UNIT-P",
        "subject": "SUBJ-LAND",
        "due": "2026-07-01",
    },
    "interview_proposed": {"leader": "LEADER-L", "case": "CASE-4", "reason": "REASON-R"},
    "report_due": {"case": "CASE-5", "month": "2026-05", "due": "2026-06-10"},
    "meeting_invitation": {"meeting": "MEETING-M", "when": "2026-06-12 09:30", "place": "ROOM-301"},
    "bulletin_issued": {"title": "BULLETIN-5", "rank": "RANK-R3"},
    "docking_update": {"case": "CASE-6", "institution": "BANK-B", "state": "STATE-S"},
    "stage_changed": {
        "case": "CASE-7",
        "stage": "STAGE-TO",
        "from_stage": "STAGE-FROM",
        "actor": "ACTOR-A",
        "reason": "REASON-Q",
    },
    "blocker_assigned": {"blocker": "BLOCKER-K", "case": "CASE-8", "unit": "UNIT-U", "due": "2026-08-31"},
}
KEYS = list(CONTEXTS)
CJK = re.compile(r"[\u4e00-\u9fff]")


def placeholders(key):
    kind = messages.get(key)
    with translation.override("en"):
        return set(re.findall(r"%\((\w+)\)s", f"{kind.title} {kind.body}"))


def test_every_kind_the_other_issues_need_is_registered():
    assert set(KEYS) <= set(messages.REGISTRY)


@pytest.mark.parametrize("key", KEYS)
def test_the_context_given_here_is_every_placeholder_of_the_kind(key):
    assert placeholders(key) == set(CONTEXTS[key])


@pytest.mark.parametrize("key", KEYS)
def test_a_message_reads_differently_in_english_and_chinese(key):
    english = messages.render(key, CONTEXTS[key], "en")
    chinese = messages.render(key, CONTEXTS[key], "zh-hans")

    assert english[0] != chinese[0]
    assert english[1] != chinese[1]
    assert not CJK.search(" ".join(english))
    assert CJK.search(chinese[0]) and CJK.search(chinese[1])


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("key", KEYS)
def test_a_rendered_message_carries_every_value_of_its_context_and_no_placeholder(key, language):
    title, body = messages.render(key, CONTEXTS[key], language)

    text = f"{title}\n{body}"
    assert title.strip() and body.strip()
    assert "%(" not in text
    for value in CONTEXTS[key].values():
        assert value in text, (key, language, value)


def test_a_placeholder_missing_from_the_context_renders_empty():
    title, body = messages.render("reminder", {"task": "TASK-A"}, "en")

    assert title == "Reminder: TASK-A is due "
    assert body == "TASK-A on  is due . Please finish it on time."


def test_a_message_without_any_context_renders_without_error():
    title, body = messages.render("bulletin_issued", None, "zh-hans")

    assert CJK.search(title) and CJK.search(body)


@pytest.mark.parametrize(
    "language, expected",
    [("en", "CASE-7 moved to Withdrawn"), ("zh-hans", "CASE-7 转入退出阶段")],
)
def test_a_translatable_value_is_rendered_in_the_recipients_language(language, expected):
    context = {"case": "CASE-7", "stage": messages.translatable(dict(Stage.choices)[Stage.WITHDRAWN])}

    title, _body = messages.render("stage_changed", context, language)

    assert title == expected


@pytest.mark.parametrize(
    "language, expected", [("en", "CASE-7 moved to Completed"), ("zh-hans", "CASE-7 转入竣工投产阶段")]
)
def test_a_translatable_value_with_a_message_context_keeps_its_context(language, expected):
    context = {"case": "CASE-7", "stage": messages.translatable(dict(Stage.choices)[Stage.COMPLETED])}

    title, _body = messages.render("stage_changed", context, language)

    assert title == expected


def test_a_translatable_value_survives_the_json_of_the_outbox_row():
    """The context is stored in a JSONField and rendered later, per reader."""
    context = {"case": "CASE-7", "stage": messages.translatable(dict(Stage.choices)[Stage.PREWORK])}

    stored = json.loads(json.dumps(context))

    assert messages.render("stage_changed", stored, "en")[0] == "CASE-7 moved to Pre-work"
    assert messages.render("stage_changed", stored, "zh-hans")[0] != "CASE-7 moved to Pre-work"


def test_an_unknown_kind_of_message_raises_key_error():
    with pytest.raises(KeyError):
        messages.render("no_such_kind", {}, "en")


def test_a_kind_cannot_be_registered_twice():
    kind = messages.get("reminder")

    with pytest.raises(ValueError):
        messages.register(kind)

    assert messages.get("reminder") is kind
