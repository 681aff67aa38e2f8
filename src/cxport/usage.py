"""What the command line checks before it calls the core, so that a mistake
ends in one clear line and exit 2 rather than a traceback or an empty file.

Output paths (`docs/decisions.md`, "Output paths"): a missing parent folder
is created, as `--db` is; a path that is a folder, or a place where no file
can be written, is refused up front. Inputs: a CSV given to `ingest` is named
as such. Exports: a workspace, channel or time zone the store (or the zone
database) does not know is refused with the closest match.
"""

from __future__ import annotations

import difflib
import gzip
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from cxport.errors import InvalidInput, UsageError

if TYPE_CHECKING:
    from cxport.store import Connection

SNIFF_BYTES = 64 * 1024
FORMATS = {".csv": "csv", ".parquet": "parquet"}


def output_file(option: str, value: str, devices: bool = False) -> None:
    """Refuse an output path no file can be written to; create its missing folders.

    `-` (standard output) is always fine; an existing device or pipe only with `devices`
    (a writer that writes in place; the others replace the file when complete).
    """
    if value == "-":
        return
    path = Path(value)
    if path.is_dir():
        raise UsageError(f"{option}: {value} is a folder; name a file in it")
    if path.exists() and not path.is_file() and not devices:
        raise UsageError(f"{option}: {value} is not a regular file (- is standard output)")
    writable_folder(option, path.parent)


def output_dir(option: str, value: str) -> Path:
    """The folder to write files into, created when missing."""
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option}: {value} is a file, not a folder")
    writable_folder(option, path)
    return path


def writable_folder(option: str, folder: Path) -> None:
    """Create `folder` (and its parents) if missing; refuse it if no file can be made there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(
            f"{option}: cannot create the folder {folder}: a file is in the way"
        ) from None
    except OSError as exc:
        raise UsageError(f"{option}: cannot create the folder {folder}: {exc.strerror}") from None
    try:
        fd, probe = tempfile.mkstemp(prefix=".cxport-probe-", dir=folder)
    except OSError as exc:
        raise UsageError(f"{option}: cannot write in {folder}: {exc.strerror}") from None
    os.close(fd)
    os.unlink(probe)


def format_for(output: str, given: str | None) -> str:
    """The file format: `--format`, else the output's extension, else CSV; they must agree."""
    implied = FORMATS.get(Path(output).suffix.lower()) if output != "-" else None
    if given and implied and given != implied:
        raise UsageError(f"--format {given} contradicts --output {output}; drop one")
    return given or implied or "csv"


def ingest_input(path: str) -> None:
    """Refuse early an input that cannot be read, or that is CSV rather than NDJSON."""
    if path == "-":
        return  # standard input cannot be looked at twice
    try:
        with open(path, "rb") as raw:
            head = raw.read(SNIFF_BYTES)
            if head[:2] == b"\x1f\x8b":
                raw.seek(0)
                with gzip.GzipFile(fileobj=raw) as unzipped:
                    head = unzipped.read(SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        raise InvalidInput(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n").split(b"\n", 1)[0]
    if not first or first.startswith((b"{", b"[")) or b"," not in first:
        return  # NDJSON (or something the ingest's own checks name line by line)
    twcs = b"tweet_id" in first and b"author_id" in first
    what = "the Twitter support CSV (twcs.csv)" if twcs else "CSV"
    raise InvalidInput(
        f"{path} looks like {what}, not NDJSON records (ingest.md); "
        f"for Twitter support data use `cxport import twcs {path} --out records.ndjson`, "
        "then ingest records.ndjson"
    )


def closest(value: str, known: Iterable[str]) -> str:
    """` (did you mean X?)` for the known value nearest to `value`, or ``."""
    names = list(known)
    by_lower = {n.lower(): n for n in names}
    if value.lower() in by_lower:
        return f" (did you mean {by_lower[value.lower()]}?)"
    match = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean {by_lower[match[0]]}?)" if match else ""


def time_zone(name: str) -> None:
    """Refuse a zone the zone database does not know, naming the nearest one."""
    from zoneinfo import available_timezones

    from cxport.exports.request import zone

    try:
        zone(name)
    except UsageError:
        near = closest(name, available_timezones())
        raise UsageError(f"--tz: unknown time zone {name!r}{near}") from None


def _known(names: list[str]) -> str:
    shown = ", ".join(names[:20]) + (f", … ({len(names)} in all)" if len(names) > 20 else "")
    return shown or "none: ingest records first"


def known_scope(con: Connection, workspace: str, channels: Iterable[str]) -> None:
    """Refuse a workspace, or a channel of it, that the store has never seen."""
    workspaces = [
        str(w)
        for (w,) in con.execute("SELECT DISTINCT workspace FROM batches ORDER BY 1").fetchall()
    ]
    if workspace not in workspaces:
        raise UsageError(
            f"--workspace: the store has no workspace {workspace!r}"
            f"{closest(workspace, workspaces)}; known: {_known(workspaces)}"
        )
    asked = list(dict.fromkeys(channels))
    if not asked:
        return
    seen = [
        str(c)
        for (c,) in con.execute(
            "SELECT channel_id FROM r_channel WHERE workspace = ?"
            " UNION SELECT channel_id FROM r_conversation WHERE workspace = ? ORDER BY 1",
            [workspace, workspace],
        ).fetchall()
        if c is not None
    ]
    for channel in asked:
        if channel not in seen:
            raise UsageError(
                f"--channel: workspace {workspace!r} has no channel {channel!r}"
                f"{closest(channel, seen)}; known: {_known(seen)}"
            )
