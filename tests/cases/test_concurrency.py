"""Two people moving the same case at once: one wins, the others are told, nothing is half done."""

import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from cases import services
from cases.financing import services as financing_services
from cases.financing.models import FinancialProduct
from cases.models import AuditEvent, KeyProject, Stage
from tests.cases.factories import ready_to_select
from tests.cases.financing.factories import FinancialProductFactory

THREADS = 16


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sixteen_threads_fire_the_same_transition_and_exactly_one_wins(org):
    project = ready_to_select(org.project, leader=org.leader)
    version = project.version
    barrier = threading.Barrier(THREADS)
    outcomes = []
    lock = threading.Lock()

    def fire():
        try:
            barrier.wait()
            services.project_transition(
                project_id=project.pk, transition="select", actor=org.secretariat.user, expected_version=version
            )
            result = "won"
        except services.Conflict:
            result = "conflict"
        except Exception as exc:  # anything else is a failure of the guarantee
            result = f"error: {exc!r}"
        finally:
            close_old_connections()
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=fire) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["conflict"] * (THREADS - 1) + ["won"]
    project.refresh_from_db()
    assert project.stage == Stage.PREWORK
    assert project.version == version + 1
    assert AuditEvent.objects.filter(project=project, transition="select").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_stale_edit_after_a_transition_is_refused_and_changes_nothing(org):
    stale = KeyProject.objects.get(pk=org.project.pk)
    services.project_transition(
        project_id=org.project.pk, transition="withdraw", actor=org.secretariat.user, reason="退出"
    )
    with pytest.raises(services.Conflict):
        services.project_update(
            project=stale, actor=org.secretariat.user, data={"name": "改名"}, expected_version=stale.version
        )
    fresh = KeyProject.objects.get(pk=org.project.pk)
    assert fresh.name == org.project.name
    assert not AuditEvent.objects.filter(project=fresh, action="updated").exists()


def test_saving_a_copy_read_before_someone_else_saved_raises_a_conflict(org):
    """Optimistic locking holds without an expected version: the UPDATE filters on it."""
    first = KeyProject.objects.get(pk=org.project.pk)
    second = KeyProject.objects.get(pk=org.project.pk)
    services.project_update(project=first, actor=org.secretariat.user, data={"name": "第一次"})
    with pytest.raises(services.Conflict):
        services.project_update(project=second, actor=org.secretariat.user, data={"name": "第二次"})
    assert KeyProject.objects.get(pk=org.project.pk).name == "第一次"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_threads_changing_the_same_product_from_the_same_version_let_exactly_one_win(org):
    # Given a product everyone read at version 1
    product = FinancialProductFactory(institution=org.bank_unit)
    barrier = threading.Barrier(THREADS)
    outcomes = []
    lock = threading.Lock()

    def change(index):
        try:
            barrier.wait()
            financing_services.product_update(
                product=FinancialProduct.objects.get(pk=product.pk),
                actor=org.secretariat.user,
                data={"rate_max": Decimal("4.50") + Decimal(index + 1) / 100},
                expected_version=1,
            )
            result = "won"
        except services.Conflict:
            result = "conflict"
        except Exception as exc:  # anything else is a failure of the guarantee
            result = f"error: {exc!r}"
        finally:
            close_old_connections()
            connection.close()
        with lock:
            outcomes.append(result)

    # When each of them saves a different rate at once
    threads = [threading.Thread(target=change, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then one change is saved and audited, and every other person is told
    assert sorted(outcomes) == ["conflict"] * (THREADS - 1) + ["won"]
    stored = FinancialProduct.objects.get(pk=product.pk)
    assert stored.version == 2 and stored.rate_max != Decimal("4.50")
    assert AuditEvent.objects.filter(object_id=str(product.pk), content_type__model="financialproduct", action="updated").count() == 1
