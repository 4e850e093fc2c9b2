from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LiveEvent:
    """An outbox row as it travels: `seq` is the delivery position clients resume from."""

    seq: int
    topic: str
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)
