"""Fault injection for the simulated field, logged so that anomaly detection can be scored.

A :class:`Fault` applies to one series over a time window. :func:`apply_faults` transforms
generated values and status codes vectorised; the fault list itself is the ground truth
(``FaultLog`` writes it as JSON lines: kind, series, window, parameters).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt
import orjson

from anh_reporter.domain.quality import BAD_NO_COMMUNICATION, BAD_TIMEOUT
from anh_reporter.domain.timeutil import from_us


class FaultKind(StrEnum):
    """The faults the simulator can inject."""

    STUCK = "stuck"  # value frozen at its value at the window start
    SPIKE = "spike"  # value multiplied by (1 + magnitude) during a short window
    DRIFT = "drift"  # value drifts linearly by magnitude * value over the window
    FLATLINE = "flatline"  # value 0
    COMM_LOSS = "comm_loss"  # the server stops answering for the series/device
    BAD_STATUS = "bad_status"  # value kept, status code Bad
    METER_FACTOR = "meter_factor"  # value scaled by (1 + magnitude) from the window start on


@dataclass(frozen=True)
class Fault:
    """One injected fault: what, on which series, from when to when."""

    kind: FaultKind
    series_key: int
    start_us: int
    end_us: int
    magnitude: float = 0.0
    note: str = ""

    def __post_init__(self) -> None:
        if self.end_us <= self.start_us:
            raise ValueError(
                f"fault window must end after it starts: start {from_us(self.start_us)}, "
                f"end {from_us(self.end_us)}"
            )

    def active(self, times_us: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which instants fall in the fault window."""
        return np.asarray((times_us >= self.start_us) & (times_us < self.end_us))


def apply_faults(
    faults: list[Fault],
    series_key: int,
    times_us: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    quality: npt.NDArray[np.uint32],
    *,
    stuck_value: float | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint32], npt.NDArray[np.bool_]]:
    """Apply the faults of ``series_key``; return values, status codes and a "no answer" mask.

    ``stuck_value`` is the value at the stuck window's start when the caller knows it (the
    live server does); otherwise the first value inside the window is used.
    """
    values = values.copy()
    quality = quality.copy()
    silent = np.zeros(len(times_us), dtype=bool)
    for f in faults:
        if f.series_key != series_key:
            continue
        on = f.active(times_us)
        if f.kind is FaultKind.METER_FACTOR:
            on = times_us >= f.start_us
        if not on.any():
            continue
        if f.kind is FaultKind.STUCK:
            held = stuck_value if stuck_value is not None else values[on][0]
            values[on] = held
        elif f.kind is FaultKind.SPIKE:
            values[on] *= 1.0 + f.magnitude
        elif f.kind is FaultKind.DRIFT:
            progress = (times_us[on] - f.start_us) / (f.end_us - f.start_us)
            values[on] *= 1.0 + f.magnitude * progress
        elif f.kind is FaultKind.FLATLINE:
            values[on] = 0.0
        elif f.kind is FaultKind.COMM_LOSS:
            silent |= on
            quality[on] = BAD_NO_COMMUNICATION
            values[on] = np.nan
        elif f.kind is FaultKind.BAD_STATUS:
            quality[on] = BAD_TIMEOUT
        elif f.kind is FaultKind.METER_FACTOR:
            values[on] *= 1.0 + f.magnitude
    return values, quality, silent


@dataclass
class FaultLog:
    """Append-only JSON-lines record of injected faults (the ground truth for scoring)."""

    path: Path
    faults: list[Fault] = field(default_factory=list)

    def record(self, fault: Fault) -> None:
        """Remember a fault and append it to the log file."""
        self.faults.append(fault)
        row = asdict(fault) | {
            "start": from_us(fault.start_us).isoformat(),
            "end": from_us(fault.end_us).isoformat(),
            "logged_at": dt.datetime.now(dt.UTC).isoformat(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as f:
            f.write(orjson.dumps(row) + b"\n")

    @staticmethod
    def read(path: Path) -> list[Fault]:
        """The faults recorded in a log file."""
        out = []
        for line in path.read_bytes().splitlines():
            row = orjson.loads(line)
            out.append(
                Fault(
                    FaultKind(row["kind"]),
                    row["series_key"],
                    row["start_us"],
                    row["end_us"],
                    row.get("magnitude", 0.0),
                    row.get("note", ""),
                )
            )
        return out
