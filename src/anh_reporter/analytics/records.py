"""What every detector produces and the store keeps: an anomaly episode with its severity.

Light on purpose (no scikit-learn import): the online path and the alerts use it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How urgent an anomaly is; compare with :attr:`rank` (INFO < WARNING < CRITICAL)."""

    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        """0 for INFO, 1 for WARNING, 2 for CRITICAL."""
        return _RANK[self]

    @classmethod
    def most(cls, a: Severity, b: Severity) -> Severity:
        """The more severe of two severities."""
        return a if a.rank >= b.rank else b


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class Detector(StrEnum):
    """The rules of the online path; a model-made anomaly uses the model kind instead."""

    SPIKE = "SPIKE"  # one point far beyond the SPC limits (WE1/NELSON1 at a large z)
    FLATLINE = "FLATLINE"  # the value drops to zero / the bottom of its range and stays
    STUCK = "STUCK"  # the value stops changing although its noise says it should change
    SHIFT = "SHIFT"  # a long run on one side of the centre line (NELSON2 held)
    BAD_STATUS = "BAD_STATUS"  # the status code is not Good
    SPC = "SPC"  # any other SPC rule (INFO)
    ISOLATION_FOREST = "isolation_forest"


@dataclass(frozen=True)
class Anomaly:
    """One anomaly episode of a series (rules) or of a PMO (models).

    ``window_start_us`` .. ``window_end_us`` spans the points or feature windows involved;
    ``score`` grows with how abnormal it is, on the detector's own scale (written in the
    explanation); ``explanation`` says which rule or features fired, as JSON-ready data.
    """

    field_id: int
    series_id: int | None
    pmo_id: int | None
    window_start_us: int
    window_end_us: int
    score: float
    severity: Severity
    detector: str
    explanation: dict[str, Any] = field(default_factory=dict)
    model_version: int | None = None

    def __post_init__(self) -> None:
        if (self.series_id is None) == (self.pmo_id is None):
            raise ValueError(
                f"an anomaly belongs to a series or to a PMO, not both nor neither: "
                f"series_id={self.series_id}, pmo_id={self.pmo_id}"
            )
        if self.window_end_us < self.window_start_us:
            raise ValueError(
                f"anomaly window ends before it starts: {self.window_start_us} > "
                f"{self.window_end_us}"
            )

    @property
    def dedup_key(self) -> str:
        """Same episode, same key: ``series:<id>`` or ``pmo:<id>``, detector, start."""
        owner = f"series:{self.series_id}" if self.series_id is not None else f"pmo:{self.pmo_id}"
        return f"{owner}:{self.detector}:{self.window_start_us}"
