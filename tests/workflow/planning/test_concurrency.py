"""Two people at once, on PostgreSQL: the same case proposed twice, the plan published twice, the
same version adjusted twice; exactly one wins, the others are told in words."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection

from workflow.planning import services
from workflow.planning.models import PlanProposal, PlanVersion

from .conftest import figures
from .helpers import open_compilation, propose, submit

THREADS = 8


def race(work):
    barrier = threading.Barrier(THREADS)
    outcomes, lock = [], threading.Lock()

    def fire():
        try:
            barrier.wait()
            work()
            result = "won"
        except ValidationError as refused:
            result = "refused: " + " ".join(refused.messages)
        except Exception as exc:  # anything else breaks the guarantee
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
    return outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_case_proposed_at_once_is_proposed_once(org):
    compilation = open_compilation(org)
    outcomes = race(lambda: services.proposal_save(
        actor=org.staff.user, compilation_id=compilation.pk, project_id=org.project.pk, data=figures()))
    assert outcomes.count("won") == 1
    assert all("proposed already" in o for o in outcomes if o != "won")
    assert PlanProposal.objects.filter(project=org.project).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_publishing_at_once_makes_one_version(org):
    compilation = open_compilation(org)
    proposal = propose(org, compilation, org.project)
    submit(org, compilation)
    services.proposal_accept(actor=org.secretariat.user, proposal_id=proposal.pk)
    outcomes = race(lambda: services.compilation_publish(actor=org.secretariat.user, compilation_id=compilation.pk))
    assert outcomes.count("won") == 1
    assert all("published already" in o for o in outcomes if o != "won")
    assert PlanVersion.objects.filter(compilation=compilation).count() == 1
