"""Inception virtual agents: the bot answers first, then resolves or hands over.

The bot holds a (virtual-agent) lock while it talks; it classifies the
conversation, sometimes fails at once (handover reason `ERROR`), and either
resolves the conversation itself or hands it to the human queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cxport.simulate import content as c
from cxport.simulate.period import SECOND_MS

if TYPE_CHECKING:
    from cxport.simulate.conversations import Conversation, Operation

HANDOVER_REASONS = ("AGENT_REQUESTED", "INTENT_NOT_RECOGNIZED", "BUSINESS_RULE", "OUT_OF_SCOPE")


def bot_answers(op: Operation, conv: Conversation, t: int) -> None:
    """The channel's virtual agent takes the conversation at t."""
    u, w, o = op.u, op.w, op.o
    va = conv.ch.va
    assert va is not None
    vid, cid = va.va_id, conv.cid
    actor = (None, vid, None)
    w.lock("lock", t, cid, None, vid)
    resolves = u() < o.va_resolve_rate
    error = not resolves and u() < o.va_error_rate
    if error and u() < 0.5:  # fails before saying anything
        hand_over(op, conv, t + 2 * SECOND_MS, vid, "ERROR")
        return
    t += op.between(SECOND_MS, 4 * SECOND_MS)
    api = u() < 0.2
    w.message(
        t, op.message_id(), cid, "OUTBOUND", "VIRTUAL_AGENT", "PRIVATE_MESSAGE",
        op.say.pick(c.VA_GREETING), outbound_type="API" if api else "INBOX",
        virtual_agent_id=vid, utc=api,
    )  # fmt: skip
    t += op.between(15 * SECOND_MS, 150 * SECOND_MS)
    op.inbound(conv, t, op.say.pick(c.CONTACT_FOLLOW_UP, conv.order))
    if u() < o.topic_rate:
        op.labels.apply_topic(conv, t + SECOND_MS, actor)
        if u() < o.topic_remove_rate:  # reclassifies
            op.labels.remove_topic(conv, t + 2 * SECOND_MS, actor)
            op.labels.apply_topic(conv, t + 2 * SECOND_MS, actor)
    if u() < o.tag_rate:
        op.labels.apply_tag(conv, t + SECOND_MS, actor)
        if u() < o.tag_remove_rate:
            op.labels.remove_tag(conv, t + 3 * SECOND_MS, actor)
    t += op.between(2 * SECOND_MS, 6 * SECOND_MS)
    text = c.VA_RESOLVE if resolves else c.VA_FOLLOW_UP if error else c.VA_HANDOVER
    w.message(
        t, op.message_id(), cid, "OUTBOUND", "VIRTUAL_AGENT", "PRIVATE_MESSAGE",
        op.say.pick(text, conv.order), outbound_type="INBOX", virtual_agent_id=vid,
    )  # fmt: skip
    t += SECOND_MS
    if not resolves:
        reason = "ERROR" if error else HANDOVER_REASONS[int(u() * len(HANDOVER_REASONS))]
        hand_over(op, conv, t, vid, reason)
        return
    w.status_change(
        t, cid, "RESOLVED", virtual_agent_id=vid, resolved_by="VIRTUAL_AGENT",
        resolve_trigger="VIRTUAL_AGENT", reason="Resolvido pelo assistente",
    )  # fmt: skip
    w.lock("unlock", t, cid, None, vid)
    op.resolved(conv, t)


def hand_over(op: Operation, conv: Conversation, t: int, vid: str, reason: str) -> None:
    """The bot gives up at t: NEW again, for the human queue."""
    op.w.status_change(
        t, conv.cid, "NEW", virtual_agent_id=vid,
        initiated_by="VA_HANDED_OVER_CONVERSATION", handover_reason=reason,
    )  # fmt: skip
    op.w.lock("unlock", t, conv.cid, None, vid)
    conv.status = "NEW"
    conv.last = t
    op.queue_for_agent(conv, t + SECOND_MS)
