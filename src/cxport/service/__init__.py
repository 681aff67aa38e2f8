"""The one facade every front end calls (CLI, HTTP routes, job runners): ingest,
request_export, run_export_job, cancel, downloads, notifications, access.

A route or a command parses, calls one function here, renders. The core's errors
name fields (`tz`, `from`); each front end words them its own way.
"""

from __future__ import annotations

from cxport.service.app import Service

__all__ = ["Service"]
