"""Topics on conversations and tags on messages, as they stand at the snapshot.

A topic (tag) is on a conversation (message) when its latest `*_applied` /
`*_removed` event, in the order of records, is an application. Both event
types rank alike in that order, so ties on `at` fall to the record id.
`applied_at` is the `at` of that last application: lists of topic and tag
ids/names are ordered by it, then by the topic (tag) id.

`f_topic_application` / `f_tag_application`: each application event, with
the channel (and, for tags, the contact) of its conversation and whether the
topic (tag) is on it now (`current`), kept in the order of `applied_at`.

All read the `c_*` views: the conversations (messages) in the export's
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
    sql=_current("conversation_id", "topic_id", "c_topic_applied", "c_topic_removed"),
)

# message_id, tag_id, applied_at, applied_record_id: tags on a message now.
MESSAGE_TAG = Fact(
    "f_message_tag",
    sql=_current("message_id", "tag_id", "c_tag_applied", "c_tag_removed"),
)

# Per message with any tag event: the tags on it now as `|`-joined lists in the
# order they were applied (then by id), names as at the snapshot, and the latest
# `at` of its tag events (`tags_updated_at`: part of the message's Last Updated).
MESSAGE_TAG_LIST = Fact(
    "f_message_tag_list",
    requires=("f_message_tag",),
    sql="""
WITH lists AS (
    SELECT t.message_id,
           string_agg(cx_elem(t.tag_id), '|' ORDER BY t.applied_at, t.tag_id) AS tag_ids,
           string_agg(cx_elem(g.name), '|' ORDER BY t.applied_at, t.tag_id) AS tag_names
    FROM f_message_tag AS t
    LEFT JOIN e_tag AS g ON g.tag_id = t.tag_id
    GROUP BY t.message_id
),
events AS (
    SELECT e.message_id, max(e.at_) AS tags_updated_at
    FROM (
        SELECT a.message_id, a."at" AS at_ FROM c_tag_applied AS a
        UNION ALL
        SELECT d.message_id, d."at" AS at_ FROM c_tag_removed AS d
    ) AS e
    GROUP BY e.message_id
)
-- A tag on a message was applied to it: every message of `lists` has events.
SELECT e.message_id, l.tag_ids, l.tag_names, e.tags_updated_at
FROM events AS e
LEFT JOIN lists AS l ON l.message_id = e.message_id
""",
)

# Each topic application with the conversation's channel and whether the topic
# is on the conversation now (`current`): what the Topics export counts.
TOPIC_APPLICATION = Fact(
    "f_topic_application",
    requires=("f_conversation_topic",),
    sql="""
SELECT a.topic_id, a.conversation_id, a."at" AS applied_at, c.channel_id,
       now_on.conversation_id IS NOT NULL AS current
FROM c_topic_applied AS a
LEFT JOIN e_conversation AS c ON c.conversation_id = a.conversation_id
LEFT JOIN f_conversation_topic AS now_on
  ON now_on.conversation_id = a.conversation_id AND now_on.topic_id = a.topic_id
""",
)

# Each tag application with the tagged message's conversation channel and
# contact and whether the tag is on the message now: what the Tags export counts.
TAG_APPLICATION = Fact(
    "f_tag_application",
    requires=("f_message_tag",),
    sql="""
SELECT a.tag_id, a.message_id, a."at" AS applied_at, c.channel_id, c.contact_profile_id,
       now_on.message_id IS NOT NULL AS current
FROM c_tag_applied AS a
LEFT JOIN c_message AS m ON m.message_id = a.message_id
LEFT JOIN e_conversation AS c ON c.conversation_id = m.conversation_id
LEFT JOIN f_message_tag AS now_on ON now_on.message_id = a.message_id AND now_on.tag_id = a.tag_id
""",
)

FACTS: tuple[Fact, ...] = (
    CONVERSATION_TOPIC,
    MESSAGE_TAG,
    MESSAGE_TAG_LIST,
    TOPIC_APPLICATION,
    TAG_APPLICATION,
)
