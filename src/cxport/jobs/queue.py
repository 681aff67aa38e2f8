"""The queue is the export requests table: a job is claimed by one atomic statement
and held by a lease that its runner's heartbeat extends.

- `claim`: `UPDATE … RETURNING` of the oldest claimable job (`FOR UPDATE SKIP LOCKED`
  on PostgreSQL, where claims are also serialised by an advisory lock so that the
  per-workspace limit holds across processes; SQLite serialises writes itself).
- A job is claimable when queued, or running with a lease that ran out (its runner
  died), while it has attempts left and its workspace has fewer running jobs than
  the limit. A job whose lease ran out with no attempts left is failed by `reap`.
- Every later write of the runner names its lease (`lease_owner`): a runner that
  lost its lease (or whose job was cancelled) changes nothing and is told so.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, and_, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from cxport.control.db import Control, ExportJob, utcnow
from cxport.jobs import states

_CLAIM_LOCK = 727275


@dataclass(frozen=True)
class Limits:
    lease: dt.timedelta
    max_running_per_workspace: int
    max_attempts: int


def claim(control: Control, runner: str, limits: Limits) -> ExportJob | None:
    """Take the oldest claimable job for `runner`, or None. The lease's owner is the
    runner's name and a token of this claim (`lease_owner`): a restarted runner of
    the same name does not hold its predecessor's leases."""
    owner = f"{runner}#{secrets.token_hex(4)}"
    with control.session.begin() as s:
        take_turn(s, control)
        now = utcnow()  # once claims are serialised: the instants are in claim order
        job_id = s.execute(_claim_statement(control, owner, limits, now)).scalar_one_or_none()
        if job_id is None:
            return None
        return s.get(ExportJob, job_id)


def take_turn(s: Session, control: Control) -> None:
    """Let one claim (or end) at a time go on: an advisory lock on PostgreSQL; on SQLite,
    the database's write lock, taken by a write that changes nothing."""
    if control.is_postgres:
        s.execute(text(f"SELECT pg_advisory_xact_lock({_CLAIM_LOCK})"))
    else:
        s.execute(text("UPDATE cx_meta SET value = value WHERE key = 'queue'"))


def _claim_statement(control: Control, owner: str, limits: Limits, now: dt.datetime) -> Any:
    other = aliased(ExportJob)
    running = (
        select(func.count())
        .select_from(other)
        .where(
            other.workspace_id == ExportJob.workspace_id,
            other.state == states.RUNNING,
            other.lease_until >= now,
        )
        .scalar_subquery()
    )
    candidate = (
        select(ExportJob.id)
        .where(
            or_(
                ExportJob.state == states.QUEUED,
                and_(ExportJob.state == states.RUNNING, ExportJob.lease_until < now),
            ),
            ExportJob.attempts < limits.max_attempts,
            running < limits.max_running_per_workspace,
        )
        .order_by(ExportJob.created_at, ExportJob.id)
        .limit(1)
    )
    if control.is_postgres:
        candidate = candidate.with_for_update(skip_locked=True)
    return (
        update(ExportJob)
        .where(ExportJob.id == candidate.scalar_subquery())
        .values(
            state=states.RUNNING,
            lease_owner=owner,
            lease_until=now + limits.lease,
            attempts=ExportJob.attempts + 1,
            started_at=func.coalesce(ExportJob.started_at, now),
            progress=0.0,
        )
        .returning(ExportJob.id)
        .execution_options(synchronize_session=False)
    )


def expired_leases(s: Session, max_attempts: int) -> list[ExportJob]:
    """Running jobs whose runner died and that have no attempts left."""
    now = utcnow()
    q = select(ExportJob).where(
        ExportJob.state == states.RUNNING,
        ExportJob.lease_until < now,
        ExportJob.attempts >= max_attempts,
    )
    if s.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return list(s.scalars(q))


def heartbeat(
    control: Control, job_id: str, owner: str, lease: dt.timedelta, progress: float
) -> bool:
    """Extend the lease and write progress; False when the job is no longer ours
    (lease lost, cancelled)."""
    now = utcnow()
    with control.session.begin() as s:
        n = _changed(
            s,
            update(ExportJob)
            .where(
                ExportJob.id == job_id,
                ExportJob.lease_owner == owner,
                ExportJob.state == states.RUNNING,
            )
            .values(lease_until=now + lease, progress=progress)
            .execution_options(synchronize_session=False),
        )
    return bool(n)


def transition(
    s: Session,
    job_id: str,
    target: str,
    values: Mapping[str, Any] | None = None,
    owner: str | None = None,
) -> bool:
    """Move a job to `target` from any state allowed to reach it (and, with `owner`, only
    while that runner holds it). True when the row changed."""
    cond = [ExportJob.id == job_id, ExportJob.state.in_(states.sources(target))]
    if owner is not None:
        cond += [ExportJob.lease_owner == owner, ExportJob.state == states.RUNNING]
    n = _changed(
        s,
        update(ExportJob)
        .where(*cond)
        .values(state=target, **(values or {}))
        .execution_options(synchronize_session=False),
    )
    return bool(n)


def _changed(s: Session, statement: Any) -> int:
    """Rows an UPDATE changed."""
    result = s.execute(statement)
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
