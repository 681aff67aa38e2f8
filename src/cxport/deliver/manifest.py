"""What a delivered file is called and the manifest beside it: which export, window,
zone, channels and snapshot it covers, and how to tell it is complete."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import cxport


def delivered_name(
    workspace: str, export: str, local_from: dt.datetime, local_to: dt.datetime, run_id: str,
    ext: str,
) -> str:  # fmt: skip
    """`{workspace}_{export}_{from:ddMMyyyyHHmmss}_{to:ddMMyyyyHHmmss}_{id}.{ext}` (DESIGN.md);
    the times are local to the schedule's zone, `to` exclusive."""
    span = f"{local_from:%d%m%Y%H%M%S}_{local_to:%d%m%Y%H%M%S}"
    return f"{workspace}_{export}_{span}_{run_id}.{ext}"


def manifest_name(file_name: str) -> str:
    return file_name.rsplit(".", 1)[0] + ".manifest.json"


def _instant(t: dt.datetime) -> str:
    return t.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def manifest(
    *,
    file_name: str,
    workspace: str,
    schedule: str,
    run_id: str,
    export: str,
    every: str,
    tz: str,
    start: dt.datetime,
    end: dt.datetime,
    local_from: dt.datetime,
    local_to: dt.datetime,
    channels: list[str],
    as_of: dt.datetime,
    rows: int,
    size: int,
    sha256: str,
    options: dict[str, Any],
    definitions_hash: str,
) -> bytes:
    """The manifest's JSON (UTF-8, keys in a fixed order)."""
    body = {
        "file": file_name,
        "workspace": workspace,
        "schedule": schedule,
        "run_id": run_id,
        "export": export,
        "window": {
            "every": every,
            "from": local_from.isoformat(),
            "to": local_to.isoformat(),
            "from_utc": _instant(start),
            "to_utc": _instant(end),
        },
        "zone": tz,
        "channels": channels,  # empty: every channel
        "as_of": _instant(as_of),
        "rows": rows,
        "bytes": size,
        "sha256": sha256,
        "format": options.get("format", "csv"),
        "lang": options.get("lang", "en"),
        "include_content": bool(options.get("include_content", False)),
        "cxport_version": cxport.__version__,
        "definitions_hash": definitions_hash,
    }
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode()
