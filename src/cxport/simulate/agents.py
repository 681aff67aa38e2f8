"""Human agents as servers: shifts, presence, and who takes the next conversation.

Each agent works shifts cut by breaks into *available* intervals (written as
`presence` records) and has a `free_at` instant. A conversation is given to
the agent of its team who can start it first: at or after `free_at`, inside an
available interval. Every session ends before the agent's new `free_at`, so an
agent never holds two locks at once, whatever order conversations are handled
in. Per team, a heap keyed by a lower bound of each agent's next possible start
keeps the choice cheap with hundreds of agents.
"""

from __future__ import annotations

import heapq
import itertools
import random

from cxport.simulate.period import MINUTE_MS, Period
from cxport.simulate.workspace import Agent, Workspace
from cxport.simulate.writer import RecordWriter

NEVER = 1 << 62
# (minutes into the shift, length in minutes, away states to choose from)
_CALL_CENTRE_BREAKS = (
    (110, 10, ("Pausa NR-17", "Pausa", "Banheiro")),
    (190, 20, ("Lanche", "Lanche 🍎")),
    (300, 10, ("Pausa NR-17", "Feedback com supervisão")),
)
_OFFICE_BREAKS = (
    (120, 15, ("Café", "Café ☕")),
    (240, 60, ("Almoço",)),
    (390, 15, ("Reunião de equipe", "Treinamento")),
)
_CALL_CENTRE_MIN, _OFFICE_MIN = 380, 528


class Staff:
    """Presence of every agent, day by day, and the lock dispatcher."""

    def __init__(
        self, workspace: Workspace, writer: RecordWriter, seed: int, absence: float, blips: float
    ) -> None:
        self.agents: list[Agent] = workspace.agents
        self.period: Period = workspace.period
        self._holidays = workspace.holidays
        self._w = writer
        self._u = random.Random(f"{seed}:staff").random
        self._absence = absence
        self._blips = blips
        n = len(self.agents)
        self._slots: list[list[tuple[int, int]]] = [[] for _ in range(n)]
        self._ptr = [0] * n
        self.free_at = [0] * n
        self._generated = 0  # days whose shifts exist
        self._seq = itertools.count()
        self._heaps: dict[int, list[tuple[int, int, int]]] = {}
        for a in self.agents:
            if not a.supervisor:
                self._heaps.setdefault(a.team.index, []).append((0, next(self._seq), a.index))

    # -- shifts and presence --------------------------------------------------------

    def _works(self, a: Agent, d: int) -> bool:
        weekday = self.period.date(d).weekday()
        if d < a.joins_day or (a.leaves_day is not None and d >= a.leaves_day):
            return False
        if weekday in a.days_off or weekday not in a.team.working_days:
            return False
        if self.period.date(d).isoformat() in self._holidays and (
            a.team.long_shifts or a.supervisor or self._u() < 0.3
        ):
            return False
        return self._u() >= self._absence

    def _day(self, d: int) -> None:
        u = self._u
        midnight = self.period.midnights[d]
        for a in self.agents:
            if not self._works(a, d):
                continue
            long = a.team.long_shifts or a.supervisor
            start = (
                midnight
                + (a.shift_start_min - a.team.local_offset_min) * MINUTE_MS
                + int((u() * 15 - 5) * MINUTE_MS)
            )
            length = _OFFICE_MIN if long else _CALL_CENTRE_MIN
            end = start + length * MINUTE_MS + int(u() * 12 * MINUTE_MS)
            events: list[tuple[int, str, str | None]] = [(start, "AVAILABLE", None)]
            for offset, minutes, states in _OFFICE_BREAKS if long else _CALL_CENTRE_BREAKS:
                b0 = start + int((offset + u() * 20 - 10) * MINUTE_MS)
                b1 = b0 + int((minutes + u() * 4) * MINUTE_MS)
                state = None if u() < 0.1 else states[int(u() * len(states))]
                events += [(b0, "AWAY", state), (b1, "AVAILABLE", None)]
            if u() < self._blips:  # the connection drops: OFFLINE for a few minutes
                x = start + int(u() * 90 * MINUTE_MS) + 5 * MINUTE_MS
                events += [
                    (x, "OFFLINE", None),
                    (x + int((1 + u() * 5) * MINUTE_MS), "AVAILABLE", None),
                ]
            events.append((end, "OFFLINE", None))
            events.sort()
            slots = self._slots[a.index]
            opened: int | None = None
            for at, status, state in events:
                self._w.presence(at, a.agent_id, status, state)
                if status == "AVAILABLE":
                    # Picking up takes a moment; also, a lock at the very instant of the
                    # presence record would sort before it (metrics.md's order).
                    opened = at + int((1 + u() * 14) * 1000)
                elif opened is not None:
                    if opened < at:
                        slots.append((opened, at))
                    opened = None

    def _ensure(self, d: int) -> bool:
        """Generate shifts up to day d; False when d is past the period."""
        while self._generated <= d:
            if self._generated >= self.period.days:
                return False
            self._day(self._generated)
            self._generated += 1
        return True

    def finish(self) -> None:
        """Write the presence of the days no conversation needed."""
        self._ensure(self.period.days - 1)

    def next_slot(self, i: int, t: int) -> tuple[int, int]:
        """Earliest (start ≥ t, end of that available interval) of agent i."""
        slots = self._slots[i]
        p = self._ptr[i]
        while True:
            while p >= len(slots):
                if not self._ensure(self._generated):
                    self._ptr[i] = p
                    return NEVER, NEVER
            s, e = slots[p]
            if e > t:
                break
            p += 1
        if p > 64:  # forget the past so memory stays bounded on long periods
            del slots[:p]
            p = 0
        self._ptr[i] = p
        return max(s, t), e

    # -- dispatch ---------------------------------------------------------------

    def assign(self, team: int, ready: int) -> tuple[int, int, int] | None:
        """(agent, start, end of availability) of the team's agent who can start first.

        The agent leaves the pool until `release`. Keys in the heap are lower
        bounds of an agent's next start (requests come in time order), and no
        one starts before `ready`: the first popped agent whose real start is
        not after max(ready, next key) is the best. Among idle agents that is
        the one idle longest.
        """
        heap = self._heaps.get(team)
        if not heap:
            return None
        free = self.free_at
        while True:
            _, _, i = heapq.heappop(heap)
            s, e = self.next_slot(i, max(ready, free[i]))
            if not heap or s <= max(ready, heap[0][0]):
                if s >= self.period.end:
                    heapq.heappush(heap, (s, next(self._seq), i))
                    return None
                return i, s, e
            heapq.heappush(heap, (s, next(self._seq), i))

    def take_free(self, team: int, t: int) -> tuple[int, int] | None:
        """An agent of the team idle and available at exactly t, if any (for steals)."""
        heap = self._heaps.get(team)
        while heap and heap[0][0] <= t:
            _, _, i = heapq.heappop(heap)
            s, e = self.next_slot(i, max(t, self.free_at[i]))
            if s == t:
                return i, e
            heapq.heappush(heap, (s, next(self._seq), i))  # s > t: popped once at most
        return None

    def release(self, i: int, free_at: int) -> None:
        self.free_at[i] = free_at
        heapq.heappush(self._heaps[self.agents[i].team.index], (free_at, next(self._seq), i))
