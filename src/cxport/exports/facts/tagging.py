"""Topics on conversations and tags on messages, as they stand at the snapshot.

A topic (tag) is on a conversation (message) when its latest `*_applied` /
`*_removed` event, in the order of records, is an application. Both event
types rank alike in that order, so ties on `at` fall to the record id.
`applied_at` is the `at` of that last application: lists of topic and tag
ids/names are ordered by it, then by the topic (tag) id.

Both read the `c_*` views: the conversations (messages) in the export's
scope, every one when the export has none.
"""

from __future__ import annotations

from cxport.exports.facts import Fact


def _current(target: str, item: str, applied: str, removed: str) -> str:
    return f"""
SELECT {target}, {item}, "at" AS applied_at, record_id AS applied_record_id
FROM (
    SELECT {target}, {item}, "at", record_id, true AS is_applied FROM {applied}
    UNION ALL
    SELECT {target}, {item}, "at", record_id, false AS is_applied FROM {removed}
) AS events
QUALIFY row_number() OVER (
    PARTITION BY {target}, {item} ORDER BY "at" DESC, record_id DESC
) = 1 AND is_applied
"""


# conversation_id, topic_id, applied_at, applied_record_id: topics on a conversation now.
CONVERSATION_TOPIC = Fact(
    "f_conversation_topic",
    keep=True,
    sql=_current("conversation_id", "topic_id", "c_topic_applied", "c_topic_removed"),
)

# message_id, tag_id, applied_at, applied_record_id: tags on a message now.
MESSAGE_TAG = Fact(
    "f_message_tag",
    keep=True,
    sql=_current("message_id", "tag_id", "c_tag_applied", "c_tag_removed"),
)

FACTS: tuple[Fact, ...] = (CONVERSATION_TOPIC, MESSAGE_TAG)
