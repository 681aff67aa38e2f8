"""`simulate`: the one entry point front ends call."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cxport.errors import UsageError
from cxport.simulate.agents import Staff
from cxport.simulate.arrivals import Arrivals
from cxport.simulate.conversations import Operation
from cxport.simulate.options import SimOptions, SimSummary
from cxport.simulate.period import Period
from cxport.simulate.workspace import Workspace
from cxport.simulate.writer import RecordWriter, Sink

DEFAULT_START = dt.date(2024, 5, 1)


def simulate(
    out: str | Path,
    *,
    seed: int = 1,
    conversations: int = 5000,
    start: dt.date | None = None,
    days: int = 35,
    options: SimOptions | None = None,
) -> SimSummary:
    """Write the records of a simulated operation to `out` (NDJSON; gzip if it ends
    in `.gz`; `-` is standard output).

    The same arguments always give the same bytes. `start` (default 2024-05-01)
    is the first simulated day in São Paulo; entities are set up 30 days before.
    """
    if conversations < 0:
        raise UsageError("conversations must not be negative")
    if days < 1:
        raise UsageError("days must be at least 1")
    options = options or SimOptions()
    first = start or DEFAULT_START
    period = Period.of(first, days)
    sink = Sink(out)
    try:
        writer = RecordWriter(sink, period.end)
        workspace = Workspace(options, period, conversations)
        workspace.write(writer)
        staff = Staff(workspace, writer, seed, options.absence_rate, options.offline_blip_rate)
        operation = Operation(workspace, staff, writer, options, seed)
        arrivals = Arrivals(workspace, options, seed, conversations)
        channels = workspace.channels
        for d in range(days):
            times, picks = arrivals.day(d)
            for t, k in zip(times, picks, strict=True):
                operation.run_until(t)
                operation.arrive(t, channels[k])
        operation.run_until(period.end)
        staff.finish()
        writer.flush()
        sink.close()
    except BaseException:
        sink.abort()
        raise
    return SimSummary(
        str(out), seed, first, days, conversations, dict(sorted(writer.counts.items()))
    )
