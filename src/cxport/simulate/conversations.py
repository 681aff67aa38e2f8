"""The life of a conversation, outside the agents' sessions.

A conversation arrives (an inbound message, or a proactive outbound one),
may meet a virtual agent, waits for a human (`sessions.py`), and after a
session is pending, resolved, reopened or closed by automation. Moments that
need a human are queued in one time-ordered heap shared by all
conversations; everything else is written as soon as it is decided, with its
future `at` (records may be in any order; the writer drops those past the
period's end). Only conversations with something still to happen stay in
memory.
"""

from __future__ import annotations

import heapq
import math
import random

from cxport.simulate import content as c
from cxport.simulate.agents import Staff
from cxport.simulate.contacts import ContactBook
from cxport.simulate.labels import AUTOMATION, Labels
from cxport.simulate.options import SimOptions
from cxport.simulate.period import DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS
from cxport.simulate.virtual_agents import bot_answers
from cxport.simulate.workspace import Channel, Workspace
from cxport.simulate.writer import RecordWriter

SERVE, RETURN, AGENT_REOPEN = 0, 1, 2  # what a queued moment is for
_PUBLIC = {"twitter": "PUBLIC_POST", "facebook": "PUBLIC_COMMENT", "instagram": "PUBLIC_COMMENT"}
_LANGUAGES = ("pt-BR",) * 17 + ("en-US", "es", None)


class Conversation:
    __slots__ = (
        "ch",
        "cid",
        "contact",
        "last",
        "last_in",
        "mtype",
        "order",
        "status",
        "tags",
        "topics",
    )

    def __init__(self, cid: str, ch: Channel, contact: str, mtype: str, order: int) -> None:
        self.cid = cid
        self.ch = ch
        self.contact = contact
        self.mtype = mtype
        self.order = order  # the order number people talk about
        self.status: str | None = None  # of the latest status change
        self.last = 0  # latest activity (for auto-resolve)
        self.last_in: str | None = None  # latest inbound message id
        self.topics: list[str] = []  # applied now
        self.tags: list[tuple[str, str]] = []  # (message id, tag id) applied now


class Operation:
    """Shared state of the simulated operation and the conversation steps."""

    def __init__(
        self,
        workspace: Workspace,
        staff: Staff,
        writer: RecordWriter,
        options: SimOptions,
        seed: int,
    ) -> None:
        self.ws = workspace
        self.staff = staff
        self.w = writer
        self.o = options
        self.end = workspace.period.end
        rng = random.Random(f"{seed}:conversations")
        self.u = rng.random
        self.say = c.Phrasebook(self.u, options.tricky_content_rate)
        self.contacts = ContactBook(writer, options, self.u)
        self._heap: list[tuple[int, int, int, Conversation]] = []
        self._seq = 0
        self._messages = 0
        self._conversations = 0
        retire_at = workspace.period.midnights[workspace.retire_day] + 12 * HOUR_MS
        self.labels = Labels(writer, self.u, retire_at)
        self._supervisors = {tm.index: workspace.supervisor(tm) for tm in workspace.teams}
        from cxport.simulate.sessions import Sessions  # the two halves call each other

        self.sessions = Sessions(self)

    # -- time ----------------------------------------------------------------------

    def expo(self, mean_ms: float) -> int:
        return int(-math.log(1.0 - self.u()) * mean_ms)

    def between(self, low_ms: int, high_ms: int) -> int:
        return low_ms + int(self.u() * (high_ms - low_ms))

    def schedule(self, t: int, kind: int, conv: Conversation) -> None:
        if t < self.end:
            self._seq += 1
            heapq.heappush(self._heap, (t, self._seq, kind, conv))

    def queue_for_agent(self, conv: Conversation, t: int) -> None:
        self.schedule(t, SERVE, conv)

    def run_until(self, t: int) -> None:
        """Handle every queued moment up to t, in time order."""
        heap = self._heap
        while heap and heap[0][0] <= t:
            at, _, kind, conv = heapq.heappop(heap)
            if kind == SERVE:
                self.sessions.serve(conv, at, reopen=False)
            elif kind == RETURN:
                self.contact_writes_again(conv, at)
            else:
                self.sessions.serve(conv, at, reopen=True)

    # -- messages ------------------------------------------------------------

    def message_id(self) -> str:
        self._messages += 1
        return "m" + str(self._messages)

    def inbound(self, conv: Conversation, t: int, text: str, post_url: str | None = None) -> None:
        mid = self.message_id()
        if conv.ch.medium == "email":
            text = self.say.email_body(text, "Cliente")
        mtype = conv.mtype if post_url or conv.mtype == "EMAIL" else "PRIVATE_MESSAGE"
        self.w.message(t, mid, conv.cid, "INBOUND", "CONTACT", mtype, text, post_url=post_url)
        conv.last_in = mid
        conv.last = t
        if self.u() < self.o.delete_rate:
            self.w.message_deleted(t + self.expo(30 * MINUTE_MS) + SECOND_MS, mid)

    def system_message(
        self, conv: Conversation, t: int, kind: str, text: str, api: bool = False
    ) -> None:
        mtype = "EMAIL" if conv.mtype == "EMAIL" else "PRIVATE_MESSAGE"
        self.w.message(
            t,
            self.message_id(),
            conv.cid,
            "OUTBOUND",
            "SYSTEM",
            mtype,
            text,
            outbound_type="API" if api else "INBOX",
            system_type=kind,
            utc=api,
        )
        conv.last = t

    # -- arrival ---------------------------------------------------------------------

    def arrive(self, t: int, ch: Channel) -> None:
        u = self.u
        self._conversations += 1
        n = self._conversations
        cid = "cv" + str(n)
        mtype = "EMAIL" if ch.medium == "email" else "PRIVATE_MESSAGE"
        if ch.medium in _PUBLIC and u() < 0.5:
            mtype = _PUBLIC[ch.medium]
        conv = Conversation(cid, ch, self.contacts.pick(ch.medium, t), mtype, 100_000 + n * 7)
        url = None if u() < 0.05 else f"https://app.loja.example/inbox/{cid}"
        language = _LANGUAGES[int(u() * len(_LANGUAGES))]
        self.w.conversation(t, cid, ch.channel_id, conv.contact, url, language)
        if language is None and u() < 0.5:  # language detected later: a second version
            self.w.conversation(t + 5 * MINUTE_MS, cid, ch.channel_id, conv.contact, url, "pt-BR")
        if u() < self.o.proactive_rate:
            self.system_message(
                conv, t, "PROACTIVE", self.say.pick(c.PROACTIVE, conv.order), api=True
            )
            if u() < self.o.proactive_reply_rate:
                self.schedule(t + 2 * MINUTE_MS + self.expo(2 * HOUR_MS), RETURN, conv)
            else:
                self.close_stale(conv)
            return
        post_url = None
        if mtype in ("PUBLIC_POST", "PUBLIC_COMMENT"):
            post_url = f"https://{ch.medium}.example/p/{n}"
        self.inbound(conv, t, self.say.pick(c.FIRST_CONTACT, conv.order), post_url)
        self.first_contact(conv, t)

    def first_contact(self, conv: Conversation, t: int) -> None:
        """After the contact's first inbound message at t: the conversation is NEW."""
        u = self.u
        self.w.status_change(t, conv.cid, "NEW", initiated_by="INBOUND_MESSAGE")
        conv.status = "NEW"
        if u() < self.o.follow_up_inbound_rate:
            t += self.between(5 * SECOND_MS, 90 * SECOND_MS)
            self.inbound(conv, t, self.say.pick(c.CONTACT_FOLLOW_UP, conv.order))
        if u() < self.o.automation_tag_rate:  # a keyword rule
            keyword_tag = "tg-urgente" if u() < 0.7 else "tg-procon"
            self.labels.apply_tag(conv, t + SECOND_MS, AUTOMATION, keyword_tag)
        if conv.ch.medium == "email" and u() < self.o.topic_rate:  # subject-line routing
            self.labels.apply_topic(conv, t + 2 * SECOND_MS, AUTOMATION)
        if conv.ch.va is not None:
            bot_answers(self, conv, t + SECOND_MS)
            return
        assert conv.ch.clock is not None
        if not conv.ch.clock.is_open(t):
            self.system_message(
                conv,
                t + 2 * SECOND_MS,
                "AUTO_RESPONDER",
                self.say.pick(c.AUTO_REPLY_CLOSED, conv.order),
            )
        elif u() < self.o.auto_responder_rate:
            self.system_message(
                conv,
                t + 2 * SECOND_MS,
                "AUTO_RESPONDER",
                self.say.pick(c.AUTO_REPLY_OPEN, conv.order),
            )
        self.queue_for_agent(conv, t + 3 * SECOND_MS)

    def contact_writes_again(self, conv: Conversation, t: int) -> None:
        """A new inbound message: reopens a resolved conversation, wakes a pending one."""
        first = conv.status is None  # the answer to a proactive message
        texts = c.CONTACT_FOLLOW_UP if first else c.CONTACT_RETURN
        self.inbound(conv, t, self.say.pick(texts, conv.order))
        if first:
            self.first_contact(conv, t)
            return
        if conv.status == "RESOLVED" and self.u() < self.o.topic_remove_rate * 4:
            # A routing rule: a reopened conversation starts over unclassified.
            self.labels.remove_topic(conv, t + SECOND_MS, AUTOMATION)
        if conv.status != "NEW":
            self.w.status_change(t, conv.cid, "NEW", initiated_by="INBOUND_MESSAGE")
            conv.status = "NEW"
        self.labels.remove_tag(conv, t + SECOND_MS, AUTOMATION, "tg-aguardando")
        self.queue_for_agent(conv, t + 2 * SECOND_MS)

    # -- after a session ------------------------------------------------------------------

    def resolved(self, conv: Conversation, t: int, survey: bool = True) -> None:
        """A resolution at t: CSAT survey, then maybe a reopening later."""
        u, o, w = self.u, self.o, self.w
        conv.status = "RESOLVED"
        conv.last = t
        if survey and conv.ch.csat and u() < o.csat_rate:
            sent = t + self.between(3 * SECOND_MS, 10 * SECOND_MS)
            self.system_message(conv, sent, "CSAT_SURVEY", c.CSAT_SURVEY)
            w.csat(sent, conv.cid, "SENT")
            if u() < o.csat_answer_rate:
                answered = sent + SECOND_MS + self.expo(15 * MINUTE_MS)
                x = u()
                score = 1 if x < 0.08 else 2 if x < 0.14 else 3 if x < 0.24 else 4 if x < 0.5 else 5
                question = c.FOLLOW_UP_QUESTION_LOW if score <= 3 else c.FOLLOW_UP_QUESTION_HIGH
                w.csat(answered, conv.cid, "ANSWERED", score, question)
                if u() < o.csat_follow_up_rate:
                    answer = self.say.pick(c.FOLLOW_UP_ANSWERS)
                    w.csat(
                        answered + SECOND_MS + self.expo(3 * MINUTE_MS),
                        conv.cid,
                        "FOLLOW_UP_ANSWERED",
                        answer=answer,
                    )
        x = u()
        if x < o.reopen_rate:
            self.schedule(t + 10 * MINUTE_MS + self.expo(20 * HOUR_MS), RETURN, conv)
        elif x < o.reopen_rate + o.agent_reopen_rate:
            self.schedule(t + 30 * MINUTE_MS + self.expo(8 * HOUR_MS), AGENT_REOPEN, conv)

    def pending(self, conv: Conversation, t: int) -> None:
        """Set PENDING at t: the contact answers later, or automation closes it."""
        u, o = self.u, self.o
        conv.status = "PENDING"
        conv.last = t
        answers = u() < o.customer_return_rate
        back = t + 2 * MINUTE_MS + self.expo(6 * HOUR_MS)
        if (not answers or back - t > DAY_MS) and u() < o.automation_reminder_rate:
            self.system_message(
                conv, t + DAY_MS, "AUTOMATION", c.AUTOMATION_REMINDER, api=u() < 0.5
            )
        if answers:
            self.schedule(back, RETURN, conv)
        else:
            self.close_stale(conv)

    def close_stale(self, conv: Conversation) -> None:
        """Nobody writes any more: a weekly bulk resolve, or auto-resolve after 30 days."""
        u = self.u
        if conv.ch.bulk and conv.status == "PENDING" and u() < self.o.bulk_resolve_rate:
            period = self.ws.period
            d = period.day_of(conv.last + 3 * DAY_MS)
            d += (7 - period.date(d).weekday()) % 7  # the next Monday morning clean-up
            if conv.last + 3 * DAY_MS < self.end and d < period.days:
                at = period.midnights[d] + 9 * HOUR_MS + 30 * MINUTE_MS
                if u() < 0.5:
                    self.w.status_change(
                        at,
                        conv.cid,
                        "RESOLVED",
                        resolved_by="BULK_RESOLVE",
                        resolve_trigger="AUTOMATION",
                        reason="Limpeza semanal",
                    )
                else:
                    sup = self._supervisors[conv.ch.team.index]
                    self.w.status_change(
                        at,
                        conv.cid,
                        "RESOLVED",
                        sup.agent_id,
                        team_id=sup.team.team_id,
                        resolved_by="BULK_RESOLVE",
                        resolve_trigger="HUMAN_AGENT",
                        comment="Encerradas em massa: sem retorno",
                    )
                return
        self.w.status_change(
            conv.last + 30 * DAY_MS,
            conv.cid,
            "RESOLVED",
            resolved_by="SYSTEM",
            resolve_trigger="AUTO_RESOLVE",
            reason="Inativa por 30 dias",
        )
