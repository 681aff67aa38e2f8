"""Human agents' lock sessions: what happens between a `lock` and its end.

A session ends (metrics.md) by an unlock, a PENDING or RESOLVED status
change, a lock by another agent (a steal), the agent's next lock, or the
agent's presence leaving AVAILABLE. The agent comes from `Staff.assign`, so
the session starts while the agent is available and idle; the clock of the
session never passes the end of the agent's available interval: if the work
would, the presence change cuts the session there and the conversation goes
back to the queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cxport.simulate import content as c
from cxport.simulate.conversations import Conversation
from cxport.simulate.labels import Actor
from cxport.simulate.period import MINUTE_MS, SECOND_MS
from cxport.simulate.workspace import Agent

if TYPE_CHECKING:
    from cxport.simulate.conversations import Operation


class _Cut(Exception):  # control flow, not an error
    """The agent's available interval ends before the next step."""


class Session:
    """One agent's hold on one conversation; the agent may change by a steal."""

    __slots__ = ("agent", "end", "i", "t", "team")

    def __init__(self, agent: Agent, start: int, end: int) -> None:
        self.i = agent.index
        self.agent = agent.agent_id
        self.team = agent.team.team_id
        self.t = start
        self.end = end  # when the agent's available interval ends

    @property
    def actor(self) -> Actor:
        return (self.agent, None, self.team)

    def step(self, dt: int) -> int:
        """Advance the clock by dt; raise _Cut when it reaches the interval's end."""
        t = self.t + dt
        if t >= self.end:
            raise _Cut
        self.t = t
        return t


class Sessions:
    """Turns a queued conversation into an agent's session and its outcome."""

    def __init__(self, op: Operation) -> None:
        self.op = op
        self.staff = op.staff

    def serve(self, conv: Conversation, ready: int, reopen: bool) -> None:
        """Give the conversation to the team agent who can start first (maybe never)."""
        op, staff = self.op, self.staff
        got = staff.assign(conv.ch.team.index, ready)
        if got is None:
            return  # nobody before the period ends: it stays waiting
        i, start, end = got
        s = Session(staff.agents[i], start, end)
        if not reopen and start - ready > 15 * MINUTE_MS and op.u() < op.o.nudge_rate:
            nudge = ready + int((start - ready) * (0.3 + 0.6 * op.u()))
            op.inbound(conv, nudge, op.say.pick(c.CONTACT_NUDGE))
        op.w.lock("lock", start, conv.cid, s.agent, team_id=s.team)
        try:
            self._work(conv, s, reopen)
        except _Cut:
            # The presence change at s.end ended the session; whoever is next takes it.
            staff.release(s.i, s.end)
            if conv.status == "NEW":
                op.queue_for_agent(conv, s.end + MINUTE_MS)

    def _work(self, conv: Conversation, s: Session, reopen: bool) -> None:
        op = self.op
        u, o, w = op.u, op.o, op.w
        x = u()
        if reopen:
            self._reopen(conv, s)
            return
        if x < o.cherry_pick_rate:  # looks and leaves it for someone else
            t = s.step(op.between(8 * SECOND_MS, 90 * SECOND_MS))
            if u() < 0.75:
                w.lock("unlock", t, conv.cid, s.agent)
            # else: no unlock, the agent's next lock (or presence) ends the session
            self._release(s)
            op.queue_for_agent(conv, t + op.between(30 * SECOND_MS, 5 * MINUTE_MS))
            return
        if x < o.cherry_pick_rate + o.no_reply_resolve_rate:  # spam, duplicates
            t = s.step(op.between(10 * SECOND_MS, 60 * SECOND_MS))
            if u() < 0.5:
                op.labels.apply_tag(conv, t, s.actor, "tg-spam")
            t = s.step(op.between(2 * SECOND_MS, 20 * SECOND_MS))
            self._resolve(conv, s, c.NO_REPLY_REASONS, survey=False)
            return
        s.step(op.between(15 * SECOND_MS, 120 * SECOND_MS))  # reads the conversation
        self._classify(conv, s)
        if u() < o.steal_rate:
            self._steal(conv, s)
        self._reply(conv, s, first=True)
        self._converse(conv, s)
        self._finish(conv, s)

    def _reopen(self, conv: Conversation, s: Session) -> None:
        """An agent picks a resolved conversation up again, as NEW or PENDING."""
        op = self.op
        t = s.step(op.between(20 * SECOND_MS, 90 * SECOND_MS))
        if op.u() < 0.5:
            op.w.status_change(
                t, conv.cid, "NEW", s.agent, team_id=s.team, initiated_by="SET_TO_NEW"
            )
            conv.status = "NEW"
            self._reply(conv, s, first=False, texts=c.AGENT_REOPEN)
            self._finish(conv, s)
        else:
            self._reply(conv, s, first=False, texts=c.AGENT_REOPEN)
            t = s.step(op.between(5 * SECOND_MS, 30 * SECOND_MS))
            op.w.status_change(t, conv.cid, "PENDING", s.agent, team_id=s.team)
            self._release(s)
            op.pending(conv, t)

    def _classify(self, conv: Conversation, s: Session) -> None:
        op = self.op
        u, o = op.u, op.o
        if conv.topics and u() < o.topic_remove_rate:  # the bot's or automation's guess was wrong
            op.labels.remove_topic(conv, s.t, s.actor)
        if u() < (o.topic_rate if not conv.topics else o.topic_rate * 0.3):
            op.labels.apply_topic(conv, s.step(op.between(SECOND_MS, 20 * SECOND_MS)), s.actor)

    def _steal(self, conv: Conversation, s: Session) -> None:
        """A colleague who is idle takes the lock over (rule 3 of lock sessions)."""
        op = self.op
        at = s.t + op.between(5 * SECOND_MS, 60 * SECOND_MS)
        if at >= s.end:
            return
        got = self.staff.take_free(conv.ch.team.index, at)
        if got is None:
            return
        j, end = got
        thief = self.staff.agents[j]
        op.w.lock("lock", at, conv.cid, thief.agent_id, team_id=thief.team.team_id)
        s.t = at
        self.staff.release(s.i, at + op.between(5 * SECOND_MS, 30 * SECOND_MS))
        s.i, s.agent, s.team, s.end = j, thief.agent_id, thief.team.team_id, end

    def _reply(
        self, conv: Conversation, s: Session, first: bool, texts: tuple[str, ...] | None = None
    ) -> None:
        op = self.op
        u, o = op.u, op.o
        t = s.step(op.between(20 * SECOND_MS, 200 * SECOND_MS))  # typing
        x = u()
        kind = (
            "NATIVE"
            if x < o.native_reply_rate
            else "API"
            if x < o.native_reply_rate + o.api_reply_rate
            else "INBOX"
        )
        if texts is None:
            texts = c.AGENT_FIRST if first else c.AGENT_FOLLOW_UP
        text = op.say.pick(texts, conv.order, s.agent)
        mtype = conv.mtype if first else ("EMAIL" if conv.mtype == "EMAIL" else "PRIVATE_MESSAGE")
        if mtype == "EMAIL":
            text = op.say.email_body(text, "Equipe Loja")
        mid = op.message_id()
        op.w.message(
            t,
            mid,
            conv.cid,
            "OUTBOUND",
            "AGENT",
            mtype,
            text,
            outbound_type=kind,
            agent_id=s.agent,
            team_id=s.team,
            utc=kind == "API",
        )
        conv.last = t
        if u() < o.delete_rate / 3:  # sent by mistake
            op.w.message_deleted(t + op.between(5 * SECOND_MS, 120 * SECOND_MS), mid)

    def _converse(self, conv: Conversation, s: Session) -> None:
        """The contact answers while the agent is still there; the agent replies."""
        op = self.op
        u, o = op.u, op.o
        if u() < o.tag_rate:
            op.labels.apply_tag(conv, s.step(op.between(SECOND_MS, 10 * SECOND_MS)), s.actor)
        rounds = 0
        while rounds < 4 and u() < o.exchange_rate:
            rounds += 1
            t = s.step(op.between(10 * SECOND_MS, 40 * SECOND_MS) + op.expo(80 * SECOND_MS))
            op.inbound(conv, t, op.say.pick(c.CONTACT_FOLLOW_UP, conv.order))
            self._reply(conv, s, first=False)
        if conv.tags and u() < o.tag_remove_rate:
            op.labels.remove_tag(conv, s.step(op.between(SECOND_MS, 10 * SECOND_MS)), s.actor)

    def _finish(self, conv: Conversation, s: Session) -> None:
        """PENDING, unlocked as NEW (a transfer), or RESOLVED."""
        op = self.op
        u, o, w = op.u, op.o, op.w
        x = u()
        if x < o.pending_rate:
            t = s.step(op.between(3 * SECOND_MS, 30 * SECOND_MS))
            if u() < 0.3:
                op.labels.apply_tag(conv, t, s.actor, "tg-aguardando")
            w.status_change(t, conv.cid, "PENDING", s.agent, team_id=s.team)
            self._release(s)
            op.pending(conv, t)
        elif x < o.pending_rate + o.leave_new_rate:
            t = s.step(op.between(3 * SECOND_MS, 30 * SECOND_MS))
            w.lock("unlock", t, conv.cid, s.agent)
            self._release(s)
            op.queue_for_agent(conv, t + op.between(2 * MINUTE_MS, 30 * MINUTE_MS))
        else:
            s.step(op.between(3 * SECOND_MS, 60 * SECOND_MS))
            self._resolve(conv, s, c.RESOLVE_REASONS, survey=True)

    def _resolve(
        self, conv: Conversation, s: Session, reasons: tuple[str, ...], survey: bool
    ) -> None:
        op = self.op
        u = op.u
        reason = reasons[int(u() * len(reasons))] if u() < 0.8 else None
        comment = c.RESOLVE_COMMENTS[int(u() * len(c.RESOLVE_COMMENTS))] if u() < 0.2 else None
        op.w.status_change(
            s.t,
            conv.cid,
            "RESOLVED",
            s.agent,
            team_id=s.team,
            resolved_by="AGENT",
            resolve_trigger="HUMAN_AGENT",
            reason=reason,
            comment=comment,
        )
        self._release(s)
        op.resolved(conv, s.t, survey)

    def _release(self, s: Session) -> None:
        """The agent is free again a little after the session's last step."""
        self.staff.release(s.i, s.t + self.op.between(5 * SECOND_MS, 40 * SECOND_MS))
