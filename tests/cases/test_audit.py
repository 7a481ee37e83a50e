"""The audit trail is append-only: through the ORM everywhere, and by SQL on PostgreSQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from cases import services
from cases.models import AppendOnlyError, AuditAction, AuditEvent


@pytest.fixture
def event(org):
    services.project_transition(
        project_id=org.project.pk, transition="withdraw", actor=org.secretariat.user, reason="计划调整"
    )
    return AuditEvent.objects.get(project=org.project, transition="withdraw")


def test_a_transition_writes_one_event_with_actor_states_and_reason(event, org):
    assert event.action == AuditAction.TRANSITION
    assert event.actor == org.secretariat.user
    assert event.actor_name == "secretariat"
    assert (event.from_state, event.to_state) == ("reserve", "withdrawn")
    assert event.reason == "计划调整"


def test_an_event_cannot_be_saved_again(event):
    event.reason = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_the_queryset_refuses_update_and_delete(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == "计划调整"


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE cases_auditevent SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM cases_auditevent WHERE id = %s",
    ],
)
def test_postgresql_refuses_update_and_delete_by_sql(event, sql):
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).reason == "计划调整"
