"""The twelve exports: definitions (data), derived facts, the writer, the runner."""

from cxport.exports.request import ExportRequest
from cxport.exports.runner import (
    ExportResult,
    run_export,
    run_export_on,
    run_exports,
    run_exports_on,
)

__all__ = [
    "ExportRequest",
    "ExportResult",
    "run_export",
    "run_export_on",
    "run_exports",
    "run_exports_on",
]
