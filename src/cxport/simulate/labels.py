"""Topics on conversations and tags on messages, applied and removed.

Who does it is an `Actor`: an agent (with a team), a virtual agent, or no
one, which is automation. Deactivated labels are not applied once inactive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from cxport.simulate.catalog import RETIRED_TAG, RETIRED_TOPIC, TAGS, TOPICS
from cxport.simulate.writer import RecordWriter

if TYPE_CHECKING:
    from cxport.simulate.conversations import Conversation

Actor = tuple[str | None, str | None, str | None]  # (agent_id, virtual_agent_id, team_id)
AUTOMATION: Actor = (None, None, None)


class Labels:
    def __init__(self, writer: RecordWriter, u: Callable[[], float], retire_at: int) -> None:
        self._w = writer
        self._u = u
        self._retire_at = retire_at
        active = [t.label_id for t in TOPICS if t.active]
        self._topics = (active, [t for t in active if t != RETIRED_TOPIC])
        tags = [t.label_id for t in TAGS if t.active]
        self._tags = (tags, [t for t in tags if t != RETIRED_TAG])

    def _choose(self, lists: tuple[list[str], list[str]], t: int) -> str:
        options = lists[t >= self._retire_at]
        return options[int(self._u() * len(options))]

    def apply_topic(self, conv: Conversation, t: int, actor: Actor) -> None:
        topic = self._choose(self._topics, t)
        if topic not in conv.topics:
            conv.topics.append(topic)
            self._w.label("topic_applied", t, conv.cid, topic, *actor)

    def remove_topic(self, conv: Conversation, t: int, actor: Actor) -> None:
        if conv.topics:
            self._w.label("topic_removed", t, conv.cid, conv.topics.pop(0), *actor)

    def apply_tag(self, conv: Conversation, t: int, actor: Actor, tag: str | None = None) -> None:
        """Tag the conversation's latest inbound message (a chosen tag if None)."""
        if conv.last_in is None:
            return
        if tag is None or (tag == RETIRED_TAG and t >= self._retire_at):
            tag = self._choose(self._tags, t)
        pair = (conv.last_in, tag)
        if pair not in conv.tags:
            conv.tags.append(pair)
            self._w.label("tag_applied", t, pair[0], tag, *actor)

    def remove_tag(self, conv: Conversation, t: int, actor: Actor, tag: str | None = None) -> None:
        """Remove the oldest tag still applied (or the given one, if applied)."""
        for pair in conv.tags:
            if tag is None or pair[1] == tag:
                conv.tags.remove(pair)
                self._w.label("tag_removed", t, pair[0], pair[1], *actor)
                return
