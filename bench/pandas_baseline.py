"""What a user would otherwise write: the resolved-conversations metrics in pandas.

A straightforward script, as a data analyst who knows pandas would write it
from `metrics.md`: read the NDJSON into one DataFrame, then compute, for each
conversation whose first resolution is in the range, the first response time
in business hours (the channel's calendar, its versions, holidays, zoneinfo)
and the handle / no-reply / cherry-picking time of its lock sessions.

It is honest, not deliberately slow: vectorised where pandas makes that easy
(`merge_asof` finds what ends each lock session), a plain Python function
where the logic is a calendar walk (business time, applied per conversation).
It does not import cxport; the benchmark compares it with cxport's
`resolved-conversations` export, and `tests/test_bench_smoke.py` checks that
both give the same seconds on the worked example.

    python bench/pandas_baseline.py records.ndjson --from 2024-06-01 --to 2024-06-30 \\
        --tz America/Sao_Paulo --as-of 2024-08-01T00:00:00Z --output frt.csv
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

UTC = dt.UTC
TYPE_RANK = {"message": 0, "lock": 1, "unlock": 2, "status_change": 3}
# The fields this script reads.
COLUMNS = (
    "type", "id", "at", "conversation_id", "channel_id", "agent_id", "direction", "source",
    "status", "initiated_by", "calendar_id", "timezone", "weekly", "holidays", "channel_ids",
)  # fmt: skip
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# --- the range of a request ---------------------------------------------------------------


def first_instant_on_or_after(day: dt.date, tz: ZoneInfo) -> pd.Timestamp:
    """The first instant whose local date is on or after `day` (a skipped midnight too)."""
    lo = dt.datetime.combine(day, dt.time(), tzinfo=UTC) - dt.timedelta(days=2)
    hi = lo + dt.timedelta(days=4)
    while hi - lo > dt.timedelta(seconds=1):
        mid = (lo + (hi - lo) / 2).replace(microsecond=0)
        if mid.astimezone(tz).date() >= day:
            hi = mid
        else:
            lo = mid
    return pd.Timestamp(lo if lo.astimezone(tz).date() >= day else hi)


# --- business hours -------------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    calendar_id: str
    tz: ZoneInfo
    weekly: dict[str, list[list[str]]]
    holidays: frozenset[dt.date]


def local_to_utc(day: dt.date, hhmm: str, tz: ZoneInfo, is_end: bool) -> dt.datetime:
    """A calendar's wall time as a UTC instant.

    A repeated wall time is its first occurrence for an interval start and its
    second for an end (the repeated hour counts twice); a skipped one is the
    instant the clock jumps (the skipped hour has no business time).
    """
    hours, minutes = (int(x) for x in hhmm.split(":"))
    wall = dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=hours, minutes=minutes)
    aware = wall.replace(tzinfo=tz, fold=1 if is_end else 0)
    instant = aware.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == wall:
        return instant
    # In a gap: search the jump between the two readings of the wall time.
    lo = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = wall.replace(tzinfo=tz, fold=0).astimezone(UTC)
    lo, hi = min(lo, hi), max(lo, hi)
    while hi - lo > dt.timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid
    return hi


def business_seconds_in(calendar: Calendar | None, a: dt.datetime, b: dt.datetime) -> float:
    """Business seconds of `calendar` in [a, b] (24×7 without a calendar)."""
    if b <= a:
        return 0.0
    if calendar is None:
        return (b - a).total_seconds()
    total = 0.0
    day = a.astimezone(calendar.tz).date() - dt.timedelta(days=1)
    last = b.astimezone(calendar.tz).date() + dt.timedelta(days=1)
    while day <= last:
        if day not in calendar.holidays:
            for begin, finish in calendar.weekly.get(DAYS[day.weekday()], []):
                lo = max(a, local_to_utc(day, begin, calendar.tz, is_end=False))
                hi = min(b, local_to_utc(day, finish, calendar.tz, is_end=True))
                if hi > lo:
                    total += (hi - lo).total_seconds()
        day += dt.timedelta(days=1)
    return total


def is_list(value: Any) -> bool:
    """A JSON list as the reader gives it (a list, or an array with the pyarrow engine)."""
    return isinstance(value, list | np.ndarray)


class BusinessHours:
    """The calendar in force for a channel at each instant (a version applies from its `at`)."""

    def __init__(self, versions: pd.DataFrame) -> None:
        self.versions = versions.sort_values(["at", "id"])
        self.cuts = sorted(set(self.versions["at"]))
        self._timelines: dict[Any, list[tuple[pd.Timestamp, Calendar | None]]] = {}

    def timeline(self, channel: Any) -> list[tuple[pd.Timestamp, Calendar | None]]:
        """[(from, calendar)] for one channel, one entry per calendar edit."""
        if channel not in self._timelines:
            steps = []
            for cut in self.cuts:
                in_force = (
                    self.versions[self.versions["at"] <= cut]
                    .drop_duplicates("calendar_id", keep="last")
                    .sort_values("calendar_id")
                )
                steps.append((cut, self.choose(in_force, channel)))
            self._timelines[channel] = steps
        return self._timelines[channel]

    @staticmethod
    def choose(in_force: pd.DataFrame, channel: Any) -> Calendar | None:
        chosen = None
        for row in in_force.itertuples():
            ids = row.channel_ids
            if is_list(ids) and channel in list(ids):
                chosen = row
                break
        if chosen is None:
            for row in in_force.itertuples():
                if not is_list(row.channel_ids):
                    chosen = row
                    break
        if chosen is None:
            return None
        holidays = list(chosen.holidays) if is_list(chosen.holidays) else []
        return Calendar(
            chosen.calendar_id,
            ZoneInfo(chosen.timezone),
            # As plain lists: the pyarrow engine gives arrays, and None for an absent day.
            {day: [list(i) for i in ivs] for day, ivs in chosen.weekly.items() if ivs is not None},
            # The pyarrow engine reads "YYYY-MM-DD" as a datetime64 already.
            frozenset(pd.Timestamp(d).date() for d in holidays),
        )

    def seconds(self, channel: Any, start: pd.Timestamp, end: pd.Timestamp) -> float:
        """Business seconds between two instants on a channel, across calendar edits."""
        steps = self.timeline(channel)
        # Before the first version there is no calendar: 24×7.
        bounds: list[tuple[pd.Timestamp, Calendar | None]] = [
            (pd.Timestamp.min.tz_localize(UTC), None)
        ]
        bounds += steps
        total = 0.0
        for i, (since, calendar) in enumerate(bounds):
            until = bounds[i + 1][0] if i + 1 < len(bounds) else pd.Timestamp.max.tz_localize(UTC)
            a, b = max(start, since), min(end, until)
            if b > a:
                total += business_seconds_in(calendar, a.to_pydatetime(), b.to_pydatetime())
        return total


# --- the metrics -----------------------------------------------------------------------------


def load(path: str, as_of: pd.Timestamp, engine: str = "pyarrow") -> pd.DataFrame:
    """Every record visible at `as_of`, in the order of records (at, type rank, id).

    pandas' pyarrow JSON engine reads about six times faster than its default
    (ujson) one; a user who knows it would use it, so the script does.
    """
    if engine == "pyarrow":
        df = pd.read_json(path, lines=True, engine="pyarrow")
    else:
        df = pd.read_json(path, lines=True, dtype=False)
    for column in COLUMNS:  # optional fields absent from every record
        if column not in df:
            df[column] = None
    df["at"] = pd.to_datetime(df["at"], utc=True, format="ISO8601").dt.floor("ms")
    df = df[df["at"] <= as_of].copy()
    df["rank"] = df["type"].map(TYPE_RANK).fillna(4).astype(int)
    df = df.sort_values(["at", "rank", "id"], kind="stable").reset_index(drop=True)
    df["pos"] = range(len(df))
    return df


def latest(entities: pd.DataFrame, key: str) -> pd.DataFrame:
    """The latest version of each entity (ties: greatest record id)."""
    return entities.sort_values(["at", "id"]).drop_duplicates(key, keep="last")


def first_response(df: pd.DataFrame, conv: pd.DataFrame, hours: BusinessHours) -> pd.Series:
    """First response time in business seconds per conversation (NaN when there is none)."""
    messages = df[(df["type"] == "message") & df["conversation_id"].isin(conv.index)]
    human_out = messages[(messages["direction"] == "OUTBOUND") & (messages["source"] == "AGENT")]
    end = human_out.groupby("conversation_id")[["pos", "at"]].first()
    end.columns = ["end_pos", "end_at"]

    inbound = messages[messages["direction"] == "INBOUND"].merge(
        end, left_on="conversation_id", right_index=True
    )
    inbound = inbound[inbound["pos"] < inbound["end_pos"]]
    first_in = inbound.groupby("conversation_id")["at"].first().rename("first_inbound")

    changes = df[(df["type"] == "status_change") & df["conversation_id"].isin(conv.index)].copy()
    changes["previous"] = changes.groupby("conversation_id")["status"].shift()
    changes = changes.merge(end, left_on="conversation_id", right_index=True)
    changes = changes[changes["pos"] < changes["end_pos"]]
    reopened = changes[
        changes["status"].isin(["NEW", "PENDING"]) & (changes["previous"] == "RESOLVED")
    ]
    handover = changes[
        (changes["status"] == "NEW") & (changes["initiated_by"] == "VA_HANDED_OVER_CONVERSATION")
    ]
    candidates = pd.concat(
        [
            first_in,
            reopened.groupby("conversation_id")["at"].last().rename("reopened"),
            handover.groupby("conversation_id")["at"].last().rename("handover"),
        ],
        axis=1,
    )
    frame = end.join(candidates, how="inner")
    frame = frame[frame["first_inbound"].notna()]
    frame["start_at"] = frame[["first_inbound", "reopened", "handover"]].max(axis=1)
    frame = frame.join(conv["channel_id"])

    def business(row: Any) -> float:
        return hours.seconds(row.channel_id, row.start_at, row.end_at)

    return frame.apply(business, axis=1).rename("first_response_s")


def lock_sessions(df: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Every human lock session: start, end and class (metrics.md, "Lock sessions")."""
    locks = df[(df["type"] == "lock") & df["agent_id"].notna()]
    locks = locks[["pos", "at", "conversation_id", "agent_id"]].rename(columns={"at": "start_at"})
    enders = {
        # 1. an unlock by the same agent on that conversation
        "unlock": (
            df[(df["type"] == "unlock") & df["agent_id"].notna()],
            ["conversation_id", "agent_id"],
        ),
        # 2. that agent's next lock (any conversation)
        "next_lock": (locks.rename(columns={"start_at": "at"}), ["agent_id"]),
        # 3. a lock by another human agent on that conversation (own ones are caught by 2)
        "stolen": (locks.rename(columns={"start_at": "at"}), ["conversation_id"]),
        # 4. a status change to PENDING or RESOLVED
        "status": (
            df[(df["type"] == "status_change") & df["status"].isin(["PENDING", "RESOLVED"])],
            ["conversation_id"],
        ),
        # 5. that agent's presence change to AWAY or OFFLINE
        "presence": (
            df[(df["type"] == "presence") & df["status"].isin(["AWAY", "OFFLINE"])],
            ["agent_id"],
        ),
    }
    sessions = locks.sort_values("pos").reset_index(drop=True)
    ends = pd.DataFrame(index=sessions.index)
    for name, (events, keys) in enders.items():
        right = events[["pos", "at", *keys]].rename(columns={"at": name}).sort_values("pos")
        found = pd.merge_asof(
            sessions[["pos", *keys]],
            right,
            on="pos",
            by=keys,
            direction="forward",
            allow_exact_matches=False,
        )
        ends[name] = found[name]
    # The first of them in the order of records is also the earliest instant.
    sessions["end_at"] = ends.min(axis=1).fillna(as_of)
    sessions["ms"] = (sessions["end_at"] - sessions["start_at"]).dt.total_seconds() * 1000
    sessions["session"] = range(len(sessions))

    replies = df[
        (df["type"] == "message") & (df["direction"] == "OUTBOUND") & (df["source"] == "AGENT")
    ]
    replied = sessions.merge(
        replies[["conversation_id", "agent_id", "at"]], on=["conversation_id", "agent_id"]
    )
    replied = replied[(replied["at"] >= replied["start_at"]) & (replied["at"] <= replied["end_at"])]
    resolutions = df[(df["type"] == "status_change") & (df["status"] == "RESOLVED")]
    no_reply = sessions.merge(
        resolutions[["conversation_id", "agent_id", "at"]],
        left_on=["conversation_id", "agent_id", "end_at"],
        right_on=["conversation_id", "agent_id", "at"],
    )
    sessions["kind"] = "cherry_picking"
    sessions.loc[sessions["session"].isin(no_reply["session"]), "kind"] = "no_reply"
    sessions.loc[sessions["session"].isin(replied["session"]), "kind"] = "handle"
    return sessions


def resolved_conversation_metrics(
    path: str,
    date_from: dt.date,
    date_to: dt.date,
    tz: str,
    as_of: pd.Timestamp,
    engine: str = "pyarrow",
) -> pd.DataFrame:
    zone = ZoneInfo(tz)
    start = first_instant_on_or_after(date_from, zone)
    end = first_instant_on_or_after(date_to + dt.timedelta(days=1), zone)
    df = load(path, as_of, engine)

    changes = df[df["type"] == "status_change"]
    first_resolution = (
        changes[changes["status"] == "RESOLVED"].groupby("conversation_id")["at"].first()
    )
    resolved = first_resolution[(first_resolution >= start) & (first_resolution < end)]
    conv = latest(df[df["type"] == "conversation"], "conversation_id").set_index("conversation_id")
    conv = conv.reindex(resolved.index)[["channel_id"]]

    hours = BusinessHours(df[df["type"] == "business_hours"])
    out = pd.DataFrame(index=resolved.index)
    out["first_response_s"] = first_response(df, conv, hours)

    sessions = lock_sessions(df, as_of)
    sessions = sessions[sessions["conversation_id"].isin(resolved.index)]
    by_kind = sessions.pivot_table(
        index="conversation_id", columns="kind", values="ms", aggfunc="sum", fill_value=0
    )
    for kind in ("handle", "no_reply", "cherry_picking"):
        ms = by_kind[kind] if kind in by_kind else pd.Series(dtype=float)
        out[f"{kind}_s"] = (ms.reindex(out.index).fillna(0) // 1000).astype("int64")
    out["first_response_s"] = (out["first_response_s"] // 1).astype("Int64")
    out.index.name = "conversation_id"
    return out.sort_index()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ndjson")
    parser.add_argument("--from", dest="date_from", required=True)
    parser.add_argument("--to", dest="date_to", required=True)
    parser.add_argument("--tz", default="UTC")
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--engine", choices=("pyarrow", "ujson"), default="pyarrow")
    args = parser.parse_args(argv)
    out = resolved_conversation_metrics(
        args.ndjson,
        dt.date.fromisoformat(args.date_from),
        dt.date.fromisoformat(args.date_to),
        args.tz,
        pd.Timestamp(args.as_of).tz_convert(UTC),
        args.engine,
    )
    out.rename(
        columns={
            "first_response_s": "First Response Time (s)",
            "handle_s": "Handle Time (s)",
            "no_reply_s": "No Reply Time (s)",
            "cherry_picking_s": "Cherry Picking Time (s)",
        }
    ).rename_axis("Conversation ID").to_csv(args.output)


if __name__ == "__main__":
    main()
