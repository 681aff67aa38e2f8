"""Write the model's tables (`twcs_model`) as ingest records, NDJSON, streamed.

Each record is built as JSON text by DuckDB and written in Arrow batches
straight from the batch's buffer: no Python object per record.

Order in the file (any order is valid; a fixed one makes equal input give
equal bytes): channels, agents, contacts, conversations, messages, status
changes, each by time. Sorting the three big sections together (to group
records by conversation) needs far more memory than sorting each alone.
Record `id`s embed zero-padded tweet ids, so the tie order of records at the
same second (by record id, `metrics.md`) is the tweet id order, as in the
conversation split.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pyarrow as pa

from cxport.importers.twcs_model import (
    UNKNOWN_AGENT_SUFFIX,
    UNKNOWN_CHANNEL,
    UNKNOWN_CONTACT,
    Connection,
    fetch_row,
)

MEDIUM = "twitter"
_TS = "strftime({}, '%Y-%m-%dT%H:%M:%SZ')"
_PAD = "lpad({}::VARCHAR, 19, '0')"
BATCH_ROWS = 100_000

# One query per record type, in the order written; each yields the JSON
# lines of its records in a fixed order (so equal input gives equal bytes).
_SECTIONS: dict[str, str] = {
    "channel": f"""
        SELECT CASE WHEN channel_id = '{UNKNOWN_CHANNEL}'
            THEN json_object('type', 'channel', 'id', 'tw:channel:' || channel_id,
              'at', {_TS.format("min(first_at)")}, 'channel_id', channel_id,
              'medium', '{MEDIUM}', 'name', channel_id)
            ELSE json_object('type', 'channel', 'id', 'tw:channel:' || channel_id,
              'at', {_TS.format("min(first_at)")}, 'channel_id', channel_id,
              'medium', '{MEDIUM}', 'name', channel_id, 'display_name', '@' || channel_id)
          END
        FROM conv GROUP BY channel_id ORDER BY channel_id""",
    "agent": f"""
        SELECT json_object('type', 'agent', 'id', 'tw:agent:' || agent_id,
            'at', {_TS.format("min(created)")}, 'agent_id', agent_id,
            'name', CASE WHEN agent_id = any_value(channel_id) || ':{UNKNOWN_AGENT_SUFFIX}'
              THEN 'unknown agent of ' || any_value(channel_id)
              ELSE substr(agent_id, length(any_value(channel_id)) + 2) END)
        FROM msg WHERE outbound GROUP BY agent_id ORDER BY agent_id""",
    "contact": f"""
        SELECT CASE WHEN contact_id = '{UNKNOWN_CONTACT}'
            THEN json_object('type', 'contact', 'id', 'tw:contact:' || contact_id,
              'at', {_TS.format("min(first_at)")}, 'contact_profile_id', contact_id,
              'medium', '{MEDIUM}')
            ELSE json_object('type', 'contact', 'id', 'tw:contact:' || contact_id,
              'at', {_TS.format("min(first_at)")}, 'contact_profile_id', contact_id,
              'medium', '{MEDIUM}', 'primary_identifier', contact_id)
          END
        FROM conv GROUP BY contact_id ORDER BY contact_id""",
    "conversation": f"""
        SELECT json_object('type', 'conversation', 'id', 'tw:conversation:' || conversation_id,
            'at', {_TS.format("first_at")}, 'conversation_id', conversation_id,
            'channel_id', channel_id, 'contact_profile_id', contact_id)
        FROM conv ORDER BY first_at, conversation_id::BIGINT""",
    "message": f"""
        SELECT CASE WHEN m.outbound
            THEN json_object('type', 'message', 'id', 'tw:m:' || {_PAD.format("m.id")},
              'at', {_TS.format("m.created")}, 'message_id', m.id::VARCHAR,
              'conversation_id', m.conversation_id, 'direction', 'OUTBOUND', 'source', 'AGENT',
              'message_type', m.message_type, 'outbound_message_type', 'NATIVE',
              'agent_id', m.agent_id, 'content', m.content)
            ELSE json_object('type', 'message', 'id', 'tw:m:' || {_PAD.format("m.id")},
              'at', {_TS.format("m.created")}, 'message_id', m.id::VARCHAR,
              'conversation_id', m.conversation_id, 'direction', 'INBOUND', 'source', 'CONTACT',
              'message_type', m.message_type, 'content', m.content)
          END
        FROM (
          SELECT msg.*,
            CASE WHEN trim(r.in_response_to_tweet_id) <> '' THEN 'PUBLIC_COMMENT'
              ELSE 'PUBLIC_POST' END AS message_type,
            CASE WHEN contains(r.text, '&') THEN decode_content(r.text) ELSE r.text END
              AS content
          FROM msg JOIN csv_raw r ON r.rowid = msg.rec
        ) m
        ORDER BY m.created, m.id""",
    "status_change": f"""
        SELECT line FROM (
          SELECT created AS instant, id AS n, CASE WHEN outbound
            THEN json_object('type', 'status_change', 'id', 'tw:s:' || {_PAD.format("id")},
              'at', {_TS.format("created")}, 'conversation_id', conversation_id,
              'status', 'PENDING', 'agent_id', agent_id)
            ELSE json_object('type', 'status_change', 'id', 'tw:s:' || {_PAD.format("id")},
              'at', {_TS.format("created")}, 'conversation_id', conversation_id,
              'status', 'NEW', 'system', true, 'initiated_by', 'INBOUND_MESSAGE')
            END AS line
          FROM msg WHERE status_changes
          UNION ALL
          SELECT resolved_at, conversation_id::BIGINT,
            json_object('type', 'status_change', 'id', 'tw:r:' || conversation_id,
              'at', {_TS.format("resolved_at")}, 'conversation_id', conversation_id,
              'status', 'RESOLVED', 'system', true, 'resolved_by', 'SYSTEM',
              'resolve_trigger', 'AUTO_RESOLVE')
          FROM conv WHERE resolved_at IS NOT NULL
        ) ORDER BY instant, n""",
}
RECORD_TYPES = tuple(_SECTIONS)


class ByteSink(Protocol):
    """Where records go: a binary file, a gzip stream."""

    def write(self, data: memoryview, /) -> object: ...


def count_records(con: Connection) -> dict[str, int]:
    """How many records of each type `write_records` writes."""
    row = fetch_row(
        con,
        """
        SELECT
          (SELECT count(DISTINCT channel_id) FROM conv),
          (SELECT count(DISTINCT agent_id) FROM msg WHERE outbound),
          (SELECT count(DISTINCT contact_id) FROM conv),
          (SELECT count(*) FROM conv),
          (SELECT count(*) FROM msg),
          (SELECT count(*) FROM msg WHERE status_changes)
            + (SELECT count(*) FROM conv WHERE resolved_at IS NOT NULL)
        """,
    )
    return {name: int(n) for name, n in zip(RECORD_TYPES, row, strict=True)}


def write_records(con: Connection, out: ByteSink) -> None:
    """Write every record to `out`, one JSON object per line, type by type."""
    for query in _SECTIONS.values():
        reader = con.sql(f"SELECT line::VARCHAR || chr(10) FROM ({query}) AS r(line)")
        for batch in reader.to_arrow_reader(BATCH_ROWS):
            _write_strings(out, batch.column(0))


def _write_strings(out: ByteSink, column: pa.Array) -> None:
    """Write a string column's values back to back, from its data buffer (no nulls)."""
    if len(column) == 0:
        return
    offset_type = np.int64 if pa.types.is_large_string(column.type) else np.int32
    offsets = np.frombuffer(column.buffers()[1], dtype=offset_type)
    first, last = int(offsets[column.offset]), int(offsets[column.offset + len(column)])
    data = column.buffers()[2]
    out.write(memoryview(data)[first:last])
