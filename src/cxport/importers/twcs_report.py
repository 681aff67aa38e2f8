"""What the imported Twitter data says: per-brand median reply time.

Read from a Response Times export, not recomputed: response episodes are
defined once (`metrics.md`, the export), and a brand is a channel (its
`Sender Channel` is the brand handle).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from cxport.errors import InvalidInput

# (channel column, seconds column) of the response-times export, per language.
_HEADERS = (
    ("Sender Channel", "Agent Response Time (s)"),
    ("Canal do remetente", "Tempo (s) de resposta do agente"),
)


def brand_median_reply_times(response_times_csv: str | Path) -> dict[str, float]:
    """Median agent response time in seconds per brand, from a `response-times` CSV (en or pt-BR).

    Brands in handle order; a brand with no response in the file is absent.
    """
    path = Path(response_times_csv)
    with duckdb.connect() as con:
        try:
            columns = [
                str(row[0])
                for row in con.execute(
                    "DESCRIBE SELECT * FROM read_csv(?, header = true, all_varchar = true)",
                    [str(path)],
                ).fetchall()
            ]
        except duckdb.Error as exc:
            raise InvalidInput(f"{path.name}: not a readable CSV: {exc}") from None
        pair = next((p for p in _HEADERS if p[0] in columns and p[1] in columns), None)
        if pair is None:
            raise InvalidInput(f"{path.name}: not a response-times export (no {_HEADERS[0]})")
        channel, seconds = (f'"{c}"' for c in pair)
        rows = con.execute(
            f"""
            SELECT {channel}, median(CAST({seconds} AS DOUBLE))
            FROM read_csv(?, header = true, all_varchar = true)
            WHERE {seconds} IS NOT NULL AND {seconds} <> ''
            GROUP BY 1 ORDER BY 1
            """,
            [str(path)],
        ).fetchall()
    return {str(brand): float(median) for brand, median in rows}
