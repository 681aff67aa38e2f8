"""`cxport import twcs`: the TWCS CSV → records mapping, its quirks, and the real subset.

Small CSVs written in tmp_path pin each rule and quirk; the real subset is
read from ../shared/data/twcs (never copied; skipped when absent) to check
the whole chain: import → ingest → exports.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import os
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from helpers import export_text, rows

from cxport.errors import InvalidInput
from cxport.importers.twcs import ImportSummary, import_twcs
from cxport.importers.twcs_report import brand_median_reply_times

HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id"
T0 = dt.datetime(2017, 10, 31, 22, 0, 0, tzinfo=dt.UTC)


def _twcs_dir() -> Path:
    env = os.environ.get("CXPORT_TWCS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data" / "twcs"


SUBSET = _twcs_dir() / "twcs_subset.csv"
needs_subset = pytest.mark.skipif(not SUBSET.is_file(), reason=f"no TWCS subset at {SUBSET}")


def when(minutes: float) -> str:
    """A TWCS `created_at`, `minutes` after T0."""
    return (T0 + dt.timedelta(minutes=minutes)).strftime("%a %b %d %H:%M:%S +0000 %Y")


def iso(minutes: float) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def tweet(
    tid: str, author: str, minutes: float, text: str, parent: str = "", responses: str = ""
) -> list[str]:
    inbound = "False" if not author.isdigit() else "True"
    return [tid, author, inbound, when(minutes), text, responses, parent]


def csv_text(rows_: list[list[str]], newline: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows([HEADER.split(","), *rows_])
    return out.getvalue()


def run(
    tmp_path: Path, text: str | bytes, name: str = "twcs.csv", **kwargs: Any
) -> tuple[ImportSummary, list[dict[str, Any]]]:
    src = tmp_path / name
    if isinstance(text, str):
        text = text.encode("utf-8")
    src.write_bytes(text)
    out = tmp_path / "out.ndjson"
    summary = import_twcs(src, out, **kwargs)
    return summary, [orjson.loads(line) for line in out.read_bytes().splitlines()]


def of(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in records if r["type"] == kind]


def messages(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["message_id"]: r for r in of(records, "message")}


def conversations(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["conversation_id"]: r for r in of(records, "conversation")}


def statuses(records: list[dict[str, Any]], conversation: str) -> list[tuple[str, str]]:
    return [
        (r["at"], r["status"])
        for r in of(records, "status_change")
        if r["conversation_id"] == conversation
    ]


@pytest.fixture(params=[True, False], ids=["duckdb-reader", "python-reader"])
def fast(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


# A small thread: a customer complains, the brand answers twice, the customer thanks.
THREAD = [
    tweet("10", "115712", 0, "@sprintcare my phone is dead", responses="11"),
    tweet("11", "sprintcare", 5, "@115712 Sorry! Please DM us. -KC", "10", "12"),
    tweet("12", "115712", 9, "@sprintcare done", "11", "13"),
    tweet("13", "sprintcare", 20, "@115712 Thanks, got it ^AB", "12"),
]


# ---------------------------------------------------------------- mapping


def test_thread_becomes_one_conversation_with_entities_and_statuses(tmp_path: Path) -> None:
    summary, records = run(tmp_path, csv_text(THREAD))
    assert summary.rows_read == 4 and summary.rows_skipped == 0
    assert summary.brands == 1 and summary.conversations == 1
    assert of(records, "channel") == [
        {"type": "channel", "id": "tw:channel:sprintcare", "at": iso(0), "channel_id": "sprintcare",
         "medium": "twitter", "name": "sprintcare", "display_name": "@sprintcare"},
    ]  # fmt: skip
    assert of(records, "contact") == [
        {"type": "contact", "id": "tw:contact:115712", "at": iso(0),
         "contact_profile_id": "115712", "medium": "twitter", "primary_identifier": "115712"},
    ]  # fmt: skip
    assert {a["agent_id"]: a["name"] for a in of(records, "agent")} == {
        "sprintcare:KC": "KC",
        "sprintcare:AB": "AB",
    }
    assert conversations(records) == {
        "10": {"type": "conversation", "id": "tw:conversation:10", "at": iso(0),
               "conversation_id": "10", "channel_id": "sprintcare", "contact_profile_id": "115712"},
    }  # fmt: skip
    m = messages(records)
    assert m["10"] == {
        "type": "message", "id": "tw:m:0000000000000000010", "at": iso(0), "message_id": "10",
        "conversation_id": "10", "direction": "INBOUND", "source": "CONTACT",
        "message_type": "PUBLIC_POST", "content": "@sprintcare my phone is dead",
    }  # fmt: skip
    assert m["11"] == {
        "type": "message", "id": "tw:m:0000000000000000011", "at": iso(5), "message_id": "11",
        "conversation_id": "10", "direction": "OUTBOUND", "source": "AGENT",
        "message_type": "PUBLIC_COMMENT", "outbound_message_type": "NATIVE",
        "agent_id": "sprintcare:KC", "content": "@115712 Sorry! Please DM us. -KC",
    }  # fmt: skip
    assert statuses(records, "10") == [
        (iso(0), "NEW"), (iso(5), "PENDING"), (iso(9), "NEW"), (iso(20), "PENDING"),
        (iso(20 + 24 * 60), "RESOLVED"),
    ]  # fmt: skip
    new, pending, resolved = (
        next(r for r in of(records, "status_change") if r["status"] == s)
        for s in ("NEW", "PENDING", "RESOLVED")
    )
    assert new["system"] is True and new["initiated_by"] == "INBOUND_MESSAGE"
    assert pending["agent_id"] == "sprintcare:KC" and "system" not in pending
    assert resolved["system"] is True
    assert (resolved["resolved_by"], resolved["resolve_trigger"]) == ("SYSTEM", "AUTO_RESOLVE")
    assert summary.records == Counter(r["type"] for r in records)
    assert not of(records, "lock")  # no lock records: see docs/twcs-mapping.md


def test_unsigned_brand_tweets_go_to_the_brands_unknown_agent(tmp_path: Path) -> None:
    _, records = run(tmp_path, csv_text([
        tweet("1", "111", 0, "@AppleSupport help"),
        tweet("2", "AppleSupport", 3, "@111 Which iOS? https://t.co/x", "1"),
    ]))  # fmt: skip
    assert messages(records)["2"]["agent_id"] == "AppleSupport:(unsigned)"
    assert of(records, "agent") == [
        {"type": "agent", "id": "tw:agent:AppleSupport:(unsigned)", "at": iso(3),
         "agent_id": "AppleSupport:(unsigned)", "name": "unknown agent of AppleSupport"},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "agent"),
    [
        ("@1 We can help ^SM", "SM"),
        ("@1 Check this ^DC https://t.co/wKJHDXWGRQ", "DC"),
        ("@1 Let us know -KC", "KC"),
        ("@1 Sorry about that /AB", "AB"),
        ("@1 the order dispatches.^GA", "GA"),
        ("@1 Thanks for waiting - Chris 2/2", "Chris"),
        ("@1 See you in DM! ~ Lizzy", "Lizzy"),
        ("@1 Send a DM *MikeRice", "MikeRice"),
        ("@1 Kind regards ^ab https://t.co/2rT0l9N9Cu", "ab"),
        ("@1 network program. -C.H", "C.H"),
        ("@1 see our page /help", None),
        ("@1 arrives in 2-3 days", None),
        ("@1 I'd like to look in to this further for you 1/2", None),
        ("@1 Thanks ^unknown", None),
    ],
)
def test_agent_sign_offs(tmp_path: Path, text: str, agent: str | None) -> None:
    _, records = run(tmp_path, csv_text([tweet("5", "Brand", 0, text)]))
    assert messages(records)["5"]["agent_id"] == f"Brand:{agent or '(unsigned)'}"


def test_a_reply_after_a_long_wait_stays_in_its_conversation(tmp_path: Path) -> None:
    """The customer waiting is no inactivity: only a brand tweet followed by `gap` resolves."""
    _, records = run(tmp_path, csv_text([
        tweet("1", "111", 0, "@Brand hello?"),
        tweet("2", "Brand", 3 * 24 * 60, "@111 sorry for the wait ^AB", "1"),
        tweet("3", "111", 5 * 24 * 60, "@Brand still broken", "2"),  # 2 days after the reply
        tweet("4", "Brand", 5 * 24 * 60 + 10, "@111 on it ^AB", "3"),
    ]))  # fmt: skip
    assert {m: r["conversation_id"] for m, r in messages(records).items()} == {
        "1": "1", "2": "1", "3": "3", "4": "3",
    }  # fmt: skip
    assert statuses(records, "1") == [
        (iso(0), "NEW"), (iso(3 * 24 * 60), "PENDING"), (iso(4 * 24 * 60), "RESOLVED"),
    ]  # fmt: skip


def test_the_gap_is_configurable(tmp_path: Path) -> None:
    rows_ = [
        tweet("1", "111", 0, "@Brand hello?"),
        tweet("2", "Brand", 5, "@111 hi ^AB", "1"),
        tweet("3", "111", 125, "@Brand again", "2"),  # 2 h after the reply
    ]
    _, default = run(tmp_path, csv_text(rows_))
    assert len(conversations(default)) == 1
    summary, short = run(tmp_path, csv_text(rows_), gap=dt.timedelta(hours=1))
    assert sorted(conversations(short)) == ["1", "3"] and summary.conversations == 2
    assert statuses(short, "1")[-1] == (iso(65), "RESOLVED")


def test_an_unanswered_conversation_stays_new(tmp_path: Path) -> None:
    _, records = run(tmp_path, csv_text([
        tweet("1", "111", 0, "@Brand anyone?"),
        tweet("2", "Brand", 60, "We are open on Sunday!"),
    ]))  # fmt: skip
    assert statuses(records, "1") == [(iso(0), "NEW")]
    assert conversations(records)["1"]["channel_id"] == "Brand"


def test_a_brand_that_never_tweets_is_an_unknown_brand(tmp_path: Path) -> None:
    _, records = run(tmp_path, csv_text([tweet("1", "111", 0, "@115714 anyone?")]))
    assert conversations(records)["1"]["channel_id"] == "(unknown brand)"
    assert [c["name"] for c in of(records, "channel")] == ["(unknown brand)"]


def test_each_brand_and_each_customer_of_a_thread_gets_its_conversation(tmp_path: Path) -> None:
    _, records = run(tmp_path, csv_text([
        tweet("1", "111", 0, "@AmericanAir @ChaseSupport my flight changed!", responses="2,3,4"),
        tweet("2", "AmericanAir", 10, "@111 call us ^AA", "1"),
        tweet("3", "ChaseSupport", 12, "@111 we can refund ^CS", "1"),
        tweet("4", "222", 15, "@111 @AmericanAir same here", "1", "5"),
        tweet("5", "AmericanAir", 20, "@222 DM us ^AA", "4"),
    ]))  # fmt: skip
    m = messages(records)
    c = conversations(records)
    assert m["1"]["conversation_id"] == m["2"]["conversation_id"] == "1"
    assert (c["1"]["channel_id"], c["1"]["contact_profile_id"]) == ("AmericanAir", "111")
    assert (c["3"]["channel_id"], c["3"]["contact_profile_id"]) == ("ChaseSupport", "111")
    assert m["4"]["conversation_id"] == m["5"]["conversation_id"] == "4"
    assert (c["4"]["channel_id"], c["4"]["contact_profile_id"]) == ("AmericanAir", "222")


def test_who_a_tweet_addresses_when_the_thread_does_not_say(tmp_path: Path) -> None:
    _, records = run(tmp_path, csv_text([
        # The parent is outside the file: the brand speaks to the customer it mentions.
        tweet("1", "Brand", 0, "@333 Sorry to hear that ^AB", "999"),
        # A multi-part reply continues its own brand tweet.
        tweet("2", "Brand", 1, "and we will call you back. 2/2 ^AB", "1"),
        # A customer answering a customer keeps that customer's brand.
        tweet("3", "444", 2, "@Brand my parcel is late", responses="4"),
        tweet("4", "555", 3, "@444 mine too", "3"),
        # A broadcast speaks to nobody known.
        tweet("6", "Brand", 4, "We are open on Sunday!"),
    ]))  # fmt: skip
    c = conversations(records)
    m = messages(records)
    assert (c["1"]["channel_id"], c["1"]["contact_profile_id"]) == ("Brand", "333")
    assert m["1"]["message_type"] == "PUBLIC_COMMENT"  # a reply, though its parent is absent
    assert m["2"]["conversation_id"] == "1"
    assert (c["4"]["channel_id"], c["4"]["contact_profile_id"]) == ("Brand", "555")
    assert c["6"]["contact_profile_id"] == "(unknown customer)"
    assert m["6"]["message_type"] == "PUBLIC_POST"
    unknown = next(r for r in of(records, "contact") if r["contact_profile_id"].startswith("("))
    assert "primary_identifier" not in unknown


# ---------------------------------------------------------------- quirks


def test_rows_out_of_time_order(tmp_path: Path, fast: bool) -> None:
    shuffled = [THREAD[3], THREAD[1], THREAD[0], THREAD[2]]
    _, ordered = run(tmp_path, csv_text(THREAD), fast_reader=fast)
    _, records = run(tmp_path, csv_text(shuffled), fast_reader=fast)
    assert sorted(map(orjson.dumps, records)) == sorted(map(orjson.dumps, ordered))


def test_float_ids_several_responses_and_crlf(tmp_path: Path, fast: bool) -> None:
    rows_ = [
        ["1.0", "111", "True", when(0), "@Brand hi", "2.0,3", ""],
        ["2", "Brand", "False", when(1), "@111 hello ^AB", "", "1.0"],
        ["3.0", "Brand", "False", when(2), "@111 again ^AB", "", "1"],
    ]
    _, lf = run(tmp_path, csv_text(rows_), fast_reader=fast)
    _, crlf = run(tmp_path, csv_text(rows_, "\r\n"), fast_reader=fast)
    assert crlf == lf
    assert {m: r["conversation_id"] for m, r in messages(lf).items()} == {
        "1": "1", "2": "1", "3": "1",
    }  # fmt: skip


def test_text_keeps_newlines_and_carriage_returns(tmp_path: Path, fast: bool) -> None:
    text = "@Brand line one\nline two\r\rstill me\r\nend"
    _, records = run(tmp_path, csv_text([tweet("1", "111", 0, text)], "\r\n"), fast_reader=fast)
    assert messages(records)["1"]["content"] == text


def test_unquoted_bare_cr_is_joined_back(tmp_path: Path) -> None:
    """pandas writes a text with CR unquoted, which splits the record; the pieces are rejoined."""
    raw = (
        f",{HEADER}\n0,1,111,True,{when(0)},@AskPayPal \r\rI just love it,2,\n"
        f"1,2,AskPayPal,False,{when(1)},@111 Glad to hear ^RR,,1.0\n"
    )  # the head file's shape: a leading index column, float parents
    summary, records = run(tmp_path, raw)
    assert summary.rows_skipped == 0
    m = messages(records)
    assert m["1"]["content"] == "@AskPayPal \r\rI just love it"
    assert m["2"]["conversation_id"] == "1"


def test_html_entities_are_decoded(tmp_path: Path) -> None:
    _, records = run(tmp_path, csv_text([
        tweet("1", "111", 0, "@Brand AT&amp;T &gt; you &lt;3, I wrote &amp;amp; literally"),
    ]))  # fmt: skip
    assert messages(records)["1"]["content"] == "@Brand AT&T > you <3, I wrote &amp; literally"


def test_gzip_in_and_out(tmp_path: Path) -> None:
    src = tmp_path / "twcs.csv.gz"
    src.write_bytes(gzip.compress(csv_text(THREAD).encode()))
    import_twcs(src, tmp_path / "out.ndjson.gz")
    _, plain = run(tmp_path, csv_text(THREAD))
    lines = gzip.decompress((tmp_path / "out.ndjson.gz").read_bytes()).splitlines()
    assert [orjson.loads(line) for line in lines] == plain


# ---------------------------------------------------------------- bad rows


BAD_ROWS = [
    THREAD[0],
    ["11", "sprintcare", "False", "xyz", "@115712 multi\nline\ntext", "", "10"],
    ["x12", "115712", "True", when(9), "@sprintcare done", "", "11"],
    ["13", "sprintcare", "maybe", when(20), "thanks", "", ""],
    ["14", "115712", "True", when(21), "again", "1;2", "14"],
    ["10", "115712", "True", when(22), "dup", "", ""],
]
BAD_PROBLEMS = [
    "twcs.csv:3: created_at: cannot parse 'xyz'",
    "twcs.csv:6: tweet_id: not a tweet id 'x12'",
    "twcs.csv:7: inbound: expected True or False, got 'maybe'",
    "twcs.csv:8: in_response_to_tweet_id: the tweet answers itself",
    "twcs.csv:8: response_tweet_id: not a list of tweet ids '1;2'",
    "twcs.csv:9: tweet_id: duplicate of line 2",
]


def test_bad_rows_are_named_by_line_and_nothing_is_written(tmp_path: Path, fast: bool) -> None:
    (tmp_path / "twcs.csv").write_text(csv_text(BAD_ROWS))
    out = tmp_path / "out.ndjson"
    with pytest.raises(InvalidInput) as caught:
        import_twcs(tmp_path / "twcs.csv", out, fast_reader=fast)
    assert caught.value.problems == BAD_PROBLEMS
    assert "5 invalid row(s)" in str(caught.value)
    assert not out.exists() and not list(tmp_path.glob(".out.ndjson*"))


def test_skip_invalid_keeps_the_good_rows(tmp_path: Path, fast: bool) -> None:
    summary, records = run(tmp_path, csv_text(BAD_ROWS), skip_invalid=True, fast_reader=fast)
    assert (summary.rows_read, summary.rows_skipped) == (6, 5)
    assert summary.skipped == BAD_PROBLEMS
    assert list(messages(records)) == ["10"]
    assert "skipped twcs.csv:3: created_at: cannot parse 'xyz'" in str(summary)


def test_unreadable_records_are_named_by_line(tmp_path: Path) -> None:
    raw = (
        csv_text(THREAD[:2]).encode()
        + b"12,115712,True\n"  # too few fields
        + f'13,sprintcare,False,{when(20)},"caf\xe9",,12\n'.encode("latin-1")  # not UTF-8
        + csv_text(THREAD[3:]).encode().split(b"\n", 1)[1]
    )
    with pytest.raises(InvalidInput) as caught:
        run(tmp_path, raw)
    assert caught.value.problems == [
        "twcs.csv:4: expected 7 fields, found 3",
        "twcs.csv:5: invalid UTF-8",
    ]
    summary, records = run(tmp_path, raw, skip_invalid=True)
    assert (summary.rows_read, summary.rows_skipped) == (5, 2)
    assert sorted(messages(records)) == ["10", "11", "13"]


def test_a_reply_loop_is_an_error(tmp_path: Path) -> None:
    text = csv_text([
        tweet("1", "111", 0, "@Brand a", "3"),
        tweet("2", "Brand", 1, "@111 b", "1"),
        tweet("3", "111", 2, "@Brand c", "2"),
        tweet("4", "Brand", 3, "@111 d", "3"),
        tweet("5", "222", 4, "@Brand fine"),
    ])  # fmt: skip
    with pytest.raises(InvalidInput) as caught:
        run(tmp_path, text)
    assert [p.split(": ", 1)[0] for p in caught.value.problems] == [
        f"twcs.csv:{n}" for n in (2, 3, 4, 5)
    ]
    assert "its reply chain loops back on itself" in caught.value.problems[0]
    _, records = run(tmp_path, text, skip_invalid=True)
    assert list(messages(records)) == ["5"]


def test_a_file_without_the_twcs_columns_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        run(tmp_path, "id,text\n1,hi\n")
    assert caught.value.problems == [
        "twcs.csv:1: header: missing column(s) tweet_id, author_id, inbound, created_at,"
        " response_tweet_id, in_response_to_tweet_id"
    ]


# ---------------------------------------------------------------- the real subset


@pytest.fixture(scope="module")
def subset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The subset imported, ingested, and its messages and response-times exports."""
    if not SUBSET.is_file():
        pytest.skip(f"no TWCS subset at {SUBSET}")
    from cxport.ingest import ingest_files
    from cxport.store import open_store

    tmp = tmp_path_factory.mktemp("twcs")
    summary = import_twcs(SUBSET, tmp / "twcs.ndjson")
    con = open_store(tmp / "store.duckdb")
    try:
        stored = ingest_files(con, [str(tmp / "twcs.ndjson")])
    finally:
        con.close()
    window = ("2011-01-01", "2017-12-31")
    db = tmp / "store.duckdb"
    yield {
        "dir": tmp,
        "summary": summary,
        "stored": stored,
        "messages": rows(export_text(db, "messages", *window)),
        "response_times_path": tmp / "response-times.csv",
        "response_times": rows(
            export_text(db, "response-times", *window, out=tmp / "response-times.csv")
        ),
    }


@pytest.fixture(scope="module")
def tweets() -> dict[str, dict[str, str]]:
    if not SUBSET.is_file():
        pytest.skip(f"no TWCS subset at {SUBSET}")
    with SUBSET.open(encoding="utf-8", newline="") as fh:
        return {r["tweet_id"]: r for r in csv.DictReader(fh)}


def _at(tweet_: dict[str, str]) -> dt.datetime:
    return dt.datetime.strptime(tweet_["created_at"], "%a %b %d %H:%M:%S %z %Y")


def test_subset_import_is_valid_for_ingest(subset: dict[str, Any]) -> None:
    summary, stored = subset["summary"], subset["stored"]
    assert summary.rows_read == 17_459 and summary.rows_skipped == 0
    assert summary.brands == 96
    assert stored.rejected == 0 and stored.warning_count == 0
    assert dict(stored.stored) == summary.records


def test_subset_messages_export_holds_every_tweet_once(
    subset: dict[str, Any], tweets: dict[str, dict[str, str]]
) -> None:
    ids = [r["Message ID"] for r in subset["messages"]]
    assert len(ids) == len(set(ids)) == len(tweets)
    assert set(ids) == set(tweets)
    by_id = {r["Message ID"]: r for r in subset["messages"]}
    for tid, t in tweets.items():
        row = by_id[tid]
        assert row["Direction"] == ("INBOUND" if t["inbound"] == "True" else "OUTBOUND")
        assert dt.datetime.fromisoformat(row["Created at"]) == _at(t)


def test_subset_response_times_pair_the_files_reply_links(
    subset: dict[str, Any], tweets: dict[str, dict[str, str]]
) -> None:
    """Wherever a brand reply answers the only customer tweet of its episode, its row pairs them."""
    episode_inbound: dict[str, list[str]] = {}  # outbound message → inbound messages it answers
    by_conversation: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in subset["messages"]:
        by_conversation[row["Conversation ID"]].append(row)
    for msgs in by_conversation.values():
        waiting: list[str] = []
        for row in sorted(msgs, key=lambda r: (r["Created at"], int(r["Message ID"]))):
            if row["Direction"] == "INBOUND":
                waiting.append(row["Message ID"])
            else:
                episode_inbound[row["Message ID"]] = waiting
                waiting = []
    responses = {r["Outbound Message ID"]: r for r in subset["response_times"]}
    pairs = [
        (t["in_response_to_tweet_id"], tid)
        for tid, t in tweets.items()
        if t["inbound"] == "False"
        and tweets.get(t["in_response_to_tweet_id"], {}).get("inbound") == "True"
    ]
    checked = 0
    for customer, reply in pairs:
        if episode_inbound[reply] != [customer]:
            continue
        row = responses[reply]
        assert row["Inbound Message ID"] == customer
        seconds = (_at(tweets[reply]) - _at(tweets[customer])).total_seconds()
        assert int(row["Agent Response Time (s)"]) == seconds
        checked += 1
    assert len(pairs) == 7_154
    assert checked >= 0.85 * len(pairs)  # 6,436 today: multi-tweet episodes are the rest


def test_subset_per_brand_median_reply_time(
    subset: dict[str, Any], tweets: dict[str, dict[str, str]]
) -> None:
    medians = brand_median_reply_times(subset["response_times_path"])
    by_brand: dict[str, list[int]] = defaultdict(list)
    for row in subset["response_times"]:
        by_brand[row["Sender Channel"]].append(int(row["Agent Response Time (s)"]))
    assert medians == {b: statistics.median(v) for b, v in sorted(by_brand.items())}
    assert len(medians) >= 90
    assert 60 <= medians["AmazonHelp"] <= 3600  # minutes, not hours or seconds


def test_both_readers_give_the_same_bytes_on_the_subset(
    subset: dict[str, Any], tmp_path: Path
) -> None:
    import_twcs(SUBSET, tmp_path / "python.ndjson", fast_reader=False)
    assert (tmp_path / "python.ndjson").read_bytes() == (subset["dir"] / "twcs.ndjson").read_bytes()


def test_the_pandas_written_head_copy_gives_the_subsets_messages(
    subset: dict[str, Any], tmp_path: Path
) -> None:
    """raw/twcs_head_5000.csv: an index column, float ids, a text split by unquoted CRs."""
    head = _twcs_dir() / "raw" / "twcs_head_5000.csv"
    if not head.is_file():
        pytest.skip(f"no {head}")
    summary = import_twcs(head, tmp_path / "head.ndjson")
    assert (summary.rows_read, summary.rows_skipped) == (5_000, 0)
    head_messages = messages(
        [orjson.loads(line) for line in (tmp_path / "head.ndjson").read_bytes().splitlines()]
    )
    subset_messages = messages(
        [orjson.loads(line) for line in (subset["dir"] / "twcs.ndjson").read_bytes().splitlines()]
    )
    assert len(head_messages) == 5_000
    assert head_messages == {k: subset_messages[k] for k in head_messages}
    assert head_messages["3399"]["content"].startswith("@AskPayPal \r\rI just love")


@needs_subset
def test_demo_runs_on_the_real_data(tmp_path: Path) -> None:
    from cxport.cli import main

    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--twcs", str(SUBSET), "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.glob("*.csv"))
    assert len(files) == 12
    messages_csv = next(out.glob("*_messages_*.csv"))
    assert len(rows(messages_csv.read_text(encoding="utf-8"))) > 1000  # November 2017
