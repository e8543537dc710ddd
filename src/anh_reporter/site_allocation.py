"""A field's allocation settings in the site file (``fields[].allocation``): test validity,
allocation factor band, expired tests, downtime causes, virtual meter band and the balance
tolerances (docs/allocation.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)


class _Conf(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BalanceToleranceConf(_Conf):
    """A balance closes when |residual| <= max(relative_pct % of production, absolute)."""

    relative_pct: float = Field(ge=0, le=100, description="Share of the day's production, %")
    absolute: float = Field(
        ge=0, le=1_000_000, description="Floor, in the fluid's unit (bbl for oil and water, kscf)"
    )


class BalanceTolerancesConf(_Conf):
    """Per-fluid balance tolerances; a fluid left out keeps its default (docs/allocation.md 6)."""

    oil: BalanceToleranceConf | None = None
    gas: BalanceToleranceConf | None = None
    water: BalanceToleranceConf | None = None


class AllocationConf(_Conf):
    """How a field's production is allocated to its wells (docs/allocation.md)."""

    test_validity_days: int = Field(90, ge=1, le=3650, description="A test older is expired")
    factor_band: tuple[float, float] = Field(
        (0.85, 1.15), description="An allocation factor outside [low, high] warns"
    )
    expired_tests: Literal["use_flagged", "exclude"] = "use_flagged"
    downtime_causes: tuple[str, ...] | None = Field(
        None, min_length=1, description="Downtime cause codes (default: the built-in list)"
    )
    virtual_meter_band_pct: float = Field(
        10.0,
        gt=0,
        le=100,
        description="Σ of the wells' virtual meters off the PMO's measured volume by more than "
        "this % raises a finding",
    )
    virtual_meter_min_coverage_pct: float = Field(
        95.0, ge=0, le=100, description="A virtual meter covering less of the day is not compared"
    )
    balance_tolerance: BalanceTolerancesConf | None = Field(
        None,
        description="Oil, gas and water balance tolerances (default: 0.5 % or 1 bbl for oil and "
        "water, 2 % or 1 kscf for gas)",
    )

    @model_serializer(mode="wrap")
    def _without_unset_tolerance(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave ``balance_tolerance`` out when it is not set: the settings stored for a field
        (and logged as configuration) stay what they were before the key existed, so loading
        an unchanged site file records no change."""
        data: dict[str, Any] = handler(self)
        if self.balance_tolerance is None:
            data.pop("balance_tolerance", None)
        return data

    @field_validator("factor_band")
    @classmethod
    def _ordered_band(cls, value: tuple[float, float]) -> tuple[float, float]:
        lo, hi = value
        if not 0 <= lo < hi:
            raise ValueError(f"factor_band must have 0 <= low < high, got [{lo}, {hi}]")
        return value
