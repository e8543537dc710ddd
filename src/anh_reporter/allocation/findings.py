"""Findings: what the well-level computation wants a person to look at, with a stable code.

Shaped like the report's findings (code, severity, message, target) so the report can carry
them as they are. The codes and what raises them are listed in docs/allocation.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How much a finding matters: an error means a figure is missing or cannot be trusted."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Code(StrEnum):
    """Every finding code of the allocation package."""

    FACTOR_OUT_OF_BAND = "allocation_factor_out_of_band"
    NO_TEST = "well_without_test"
    TEST_EXPIRED = "well_test_expired"
    HOURS_MISSING = "hours_on_missing"
    HOURS_INCOMPLETE = "hours_on_incomplete"
    HOURS_MANUAL = "hours_on_manual"
    HOURS_EXCEED_DAY = "hours_exceed_day"
    STATUS_CONFLICT = "status_conflict"
    THEORETICAL_ZERO = "theoretical_zero"
    UNALLOCATED = "volume_unallocated"
    NO_MEASURED_VOLUME = "pmo_without_volume"
    PRODUCING_PUMP_OFF = "producing_with_pump_off"
    PUMPING_ZERO_ALLOCATION = "pumping_with_zero_allocation"
    DEFERRED_WITHOUT_TEST = "deferred_without_test"
    BALANCE_OPEN = "balance_not_closed"
    TANK_GAUGE = "tank_gauge_out_of_range"
    TANK_LEVEL_STALE = "tank_level_stale"
    TANK_LEVEL_STUCK = "tank_level_stuck"
    TANK_STOCK_UNKNOWN = "tank_stock_unknown"
    TANK_STOCK_SOURCE = "tank_stock_source"
    VIRTUAL_METER_DIVERGES = "virtual_meter_diverges"
    VIRTUAL_METER_INCOMPLETE = "virtual_meter_incomplete"
    INJECTION_METER_GAP = "injection_meter_gap"
    MONTH_DAYS_MISSING = "month_days_missing"
    MONTH_AVM_CODE_CHANGED = "month_avm_code_changed"
    MONTH_HOURS_UNKNOWN = "month_hours_unknown"
    MONTH_VOLUME_UNKNOWN = "month_volume_unknown"
    MONTH_VOLUME_UNALLOCATED = "month_volume_unallocated"


@dataclass(frozen=True)
class Finding:
    """One thing to look at: its code, severity, the well/PMO/field it is about, a message."""

    code: Code
    severity: Severity
    message: str
    target: str = ""

    def as_dict(self) -> dict[str, str]:
        """For storage and display, in the report's finding shape."""
        return {
            "code": str(self.code),
            "severity": str(self.severity),
            "target": self.target,
            "message": self.message,
        }
