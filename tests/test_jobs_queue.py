"""The jobs table as a queue, on a real control database (SQLite and PostgreSQL): one
claim per job under concurrency, the per-workspace limit, leases that run out, the
states a job may move between."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, update

from cxport.control.db import Base, Control, ExportJob, User, Workspace, utcnow
from cxport.jobs import states
from cxport.jobs.queue import Limits, claim, expired_leases, heartbeat, transition

LIMITS = Limits(lease=dt.timedelta(seconds=30), max_running_per_workspace=3, max_attempts=2)


def _jobs(control: Control, workspace: str, n: int) -> list[str]:
    with control.session.begin() as s:
        if s.get(Workspace, workspace) is None:
            s.add(Workspace(id=workspace))
            s.flush()
            s.add(
                User(
                    id=f"u-{workspace}",
                    workspace_id=workspace,
                    email=f"a@{workspace}",
                    role="admin",
                )
            )
            s.flush()
        jobs = [
            ExportJob(
                workspace_id=workspace, requested_by=f"u-{workspace}", export="teams",
                date_from=dt.date(2024, 6, 1), date_to=dt.date(2024, 6, 30), tz="UTC", as_of=utcnow(),
                created_at=utcnow() + dt.timedelta(microseconds=i),
            )
            for i in range(n)
        ]  # fmt: skip
        s.add_all(jobs)
        s.flush()
        return [j.id for j in jobs]


@pytest.fixture
def control(control_url: str) -> Control:
    c = Control(control_url)
    yield c
    c.close()


def test_the_migrations_make_the_models_schema(control: Control) -> None:
    with control.engine.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con), Base.metadata)
    assert diff == []


def test_concurrent_claims_take_each_job_once_and_respect_the_workspace_limit(
    control: Control,
) -> None:
    _jobs(control, "w1", 8)
    _jobs(control, "w2", 2)
    claimed: list[str] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        for _ in range(6):
            job = claim(control, name, LIMITS)
            if job is not None:
                with lock:
                    claimed.append(job.id)

    threads = [threading.Thread(target=claimer, args=(f"r{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(claimed) == len(set(claimed))  # no job twice
    with control.session() as s:
        running = list(s.scalars(select(ExportJob).where(ExportJob.state == states.RUNNING)))
    per_ws = {w: sum(1 for j in running if j.workspace_id == w) for w in ("w1", "w2")}
    assert per_ws == {"w1": 3, "w2": 2}  # w1 stops at the limit; w2 is not held up by it
    assert sorted(claimed) == sorted(j.id for j in running)
    assert all(j.attempts == 1 and j.lease_owner for j in running)


def test_a_job_whose_lease_ran_out_is_claimed_again_then_failed_when_out_of_attempts(
    control: Control,
) -> None:
    (job_id,) = _jobs(control, "w1", 1)
    first = claim(control, "dead-runner", LIMITS)
    assert first is not None and first.id == job_id
    dead = str(first.lease_owner)
    assert claim(control, "other", LIMITS) is None  # leased
    _expire_lease(control, job_id)
    second = claim(control, "dead-runner", LIMITS)  # its successor, of the same name
    assert second is not None and second.id == job_id and second.attempts == 2
    other = str(second.lease_owner)
    assert other != dead
    # The first runner lost its lease: its heartbeat and its end change nothing.
    assert not heartbeat(control, job_id, dead, LIMITS.lease, 0.5)
    with control.session.begin() as s:
        assert not transition(s, job_id, states.SUCCEEDED, owner=dead)
    assert heartbeat(control, job_id, other, LIMITS.lease, 0.5)
    _expire_lease(control, job_id)
    assert claim(control, "third", LIMITS) is None  # no attempts left
    with control.session.begin() as s:
        (stuck,) = expired_leases(s, LIMITS.max_attempts)
        assert stuck.id == job_id
        assert transition(s, job_id, states.FAILED, {"error": "runner died"})
    with control.session() as s:
        assert s.get(ExportJob, job_id).state == states.FAILED  # type: ignore[union-attr]


def test_only_the_transitions_of_the_state_machine_happen(control: Control) -> None:
    (job_id,) = _jobs(control, "w1", 1)
    with control.session.begin() as s:
        assert not transition(s, job_id, states.SUCCEEDED)  # queued → succeeded: no
        assert not transition(s, job_id, states.EXPIRED)
        assert transition(s, job_id, states.CANCELLED)
        assert not transition(s, job_id, states.RUNNING)  # cancelled is final
        assert not transition(s, job_id, states.QUEUED)
    assert claim(control, "r", LIMITS) is None
    assert states.sources(states.EXPIRED) == (states.SUCCEEDED,)
    assert set(states.sources(states.CANCELLED)) == {states.QUEUED, states.RUNNING}


def test_the_secret_key_is_made_once_and_shared(control_url: str) -> None:
    a, b = Control(control_url), Control(control_url)
    try:
        assert a.secret() == b.secret() and len(a.secret()) == 64
        assert a.secret("configured") == b"configured"
    finally:
        a.close()
        b.close()


def _expire_lease(control: Control, job_id: str) -> None:
    with control.session.begin() as s:
        s.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id)
            .values(lease_until=utcnow() - dt.timedelta(seconds=1))
            .execution_options(synchronize_session=False)
        )
