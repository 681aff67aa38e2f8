"""An export request's states, written down once.

queued ──▶ running ──▶ succeeded ──▶ expired
  │          │  │
  │          │  └────▶ failed
  └──────────┴───────▶ cancelled
running ──▶ queued    (a retry, or a runner that stops before it is done)
"""

from __future__ import annotations

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, EXPIRED = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
    "expired",
)
STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, EXPIRED)

# The states each state may be left for.
TRANSITIONS: dict[str, frozenset[str]] = {
    QUEUED: frozenset({RUNNING, CANCELLED}),
    RUNNING: frozenset({SUCCEEDED, FAILED, CANCELLED, QUEUED}),
    SUCCEEDED: frozenset({EXPIRED}),
    FAILED: frozenset(),
    CANCELLED: frozenset(),
    EXPIRED: frozenset(),
}
ENDED = frozenset(s for s, nexts in TRANSITIONS.items() if not nexts) | {SUCCEEDED}


def sources(target: str) -> tuple[str, ...]:
    """The states from which `target` may be reached."""
    return tuple(s for s in STATES if target in TRANSITIONS[s])
