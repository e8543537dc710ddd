"""Field balances of a day: what was produced against where it went, per fluid.

* **Oil**: production = dispatch (sales/LACT) + Δ stock + consumption + losses, with
  Δ stock = Σ over tanks (closing − opening gauged volume at 60 °F). Tank volumes come in as
  numbers (from gauges or level telemetry through a strapping table, API MPMS 12.1.1, computed
  elsewhere); consumption (oil used on site) and losses (evaporation, spills) are the field's
  own figures of the day, typed by hand (``production/oil_terms.py``).
* **Gas**: produced = sold + fuel + flare + vent + reinjected + gas lift.
* **Water**: produced = disposal + injection (the injection PMO, or each metered injection
  well's volume when no injection PMO measured the day; with both, the wells are checked
  against the PMO). An injection well whose meter left part of the day unknown is never
  counted as complete: the balance then does not close, and its finding names the well.

Residual = produced − Σ dispositions. The balance **closes** when ``|residual| <= tolerance``,
the tolerance being the larger of a share of the production and an absolute floor (per fluid,
configurable). Otherwise a warning finding names the residual and the tolerance. A tank whose
gauged volume is negative or above its capacity is refused / flagged before the balance uses it.
Each tank's opening and closing stock names its source (``gauging`` by hand, ``level_telemetry``);
a tank whose stock is unknown (its level stale, say) is never counted as no change: the oil
balance then does not close, and its finding names the tank.
:func:`balances_from_totals` takes the dispositions from the topology's totals by role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from anh_reporter.allocation.errors import AllocationError, require_non_negative
from anh_reporter.allocation.findings import Code, Finding, Severity
from anh_reporter.allocation.fluids import VOLUME_UNIT, Fluid
from anh_reporter.allocation.topology import FieldTotals, Role
from anh_reporter.domain.mpms import round_half_up


@dataclass(frozen=True)
class Tolerance:
    """A balance closes when |residual| <= max(relative_pct % of production, absolute)."""

    relative_pct: Decimal
    absolute: Decimal

    def __post_init__(self) -> None:
        require_non_negative("balance tolerance (relative)", self.relative_pct, "%")
        require_non_negative("balance tolerance (absolute)", self.absolute)

    def of(self, produced: Decimal) -> Decimal:
        """The tolerance for a day that produced ``produced``."""
        return max(abs(produced) * self.relative_pct / 100, self.absolute)


@dataclass(frozen=True)
class BalanceSettings:
    """Per-fluid tolerances (defaults: 0.5 % or 1 bbl for liquids, 2 % or 1 kscf for gas)."""

    oil: Tolerance = Tolerance(Decimal("0.5"), Decimal("1"))
    gas: Tolerance = Tolerance(Decimal("2"), Decimal("1"))
    water: Tolerance = Tolerance(Decimal("0.5"), Decimal("1"))

    def tolerance(self, fluid: Fluid) -> Tolerance:
        """The tolerance of ``fluid``."""
        return {"oil": self.oil, "gas": self.gas, "water": self.water}[fluid]


DEFAULT_BALANCE_SETTINGS = BalanceSettings()


@dataclass(frozen=True)
class TankStock:
    """One tank's volume at the day's opening and closing (NSV, bbl at 60 °F), and their source."""

    tank: str
    opening_bbl: Decimal
    closing_bbl: Decimal
    capacity_bbl: Decimal | None = None
    opening_source: str = "gauging"
    closing_source: str = "gauging"

    def __post_init__(self) -> None:
        require_non_negative(f"opening stock of tank {self.tank!r}", self.opening_bbl, "bbl")
        require_non_negative(f"closing stock of tank {self.tank!r}", self.closing_bbl, "bbl")
        if self.capacity_bbl is not None:
            require_non_negative(f"capacity of tank {self.tank!r}", self.capacity_bbl, "bbl")

    @property
    def change_bbl(self) -> Decimal:
        """Closing − opening."""
        return self.closing_bbl - self.opening_bbl


@dataclass(frozen=True)
class BalanceTerm:
    """One disposition of a balance (name and volume; Δ stock may be negative)."""

    name: str
    volume: Decimal


@dataclass(frozen=True)
class Balance:
    """A fluid's balance for the day."""

    fluid: Fluid
    produced: Decimal
    terms: tuple[BalanceTerm, ...]
    residual: Decimal
    """produced − Σ terms."""
    tolerance: Decimal
    closes: bool
    findings: tuple[Finding, ...] = field(default=())
    incomplete_terms: tuple[str, ...] = ()
    """Terms whose volume counts only part of what they stand for (``stock_change`` with a
    tank's stock unknown, ``injection:<well>`` with a meter that left part of the day without a
    volume): the balance does not close, and the report says which terms are incomplete."""

    @property
    def disposed(self) -> Decimal:
        """Σ terms."""
        return sum((t.volume for t in self.terms), Decimal(0))

    def term(self, name: str) -> Decimal:
        """The volume of term ``name``."""
        for t in self.terms:
            if t.name == name:
                return t.volume
        raise AllocationError(f"the {self.fluid} balance has no term {name!r}")


def close_balance(
    fluid: Fluid,
    produced: Decimal,
    terms: Sequence[BalanceTerm],
    tolerance: Tolerance,
    *,
    target: str = "",
    findings: Sequence[Finding] = (),
) -> Balance:
    """The balance of ``fluid``: residual, tolerance, and a finding when it does not close."""
    unit = VOLUME_UNIT[fluid]
    require_non_negative(f"produced {fluid}", produced, unit)
    for t in terms:
        if t.name != "stock_change":
            require_non_negative(f"{fluid} balance term {t.name!r}", t.volume, unit)
    disposed = sum((t.volume for t in terms), Decimal(0))
    residual = produced - disposed
    limit = tolerance.of(produced)
    closes = abs(residual) <= limit
    out = list(findings)
    if not closes:
        share = (
            f" ({round_half_up(residual * 100 / produced, Decimal('0.01'))} % of production)"
            if produced
            else ""
        )
        listed = ", ".join(f"{t.name} {t.volume}" for t in terms)
        out.append(
            Finding(
                Code.BALANCE_OPEN,
                Severity.WARNING,
                f"{fluid} balance does not close: produced {produced} {unit}, disposed "
                f"{disposed} {unit} ({listed}); residual {residual} {unit}{share} exceeds the "
                f"tolerance {round_half_up(limit, Decimal('0.01'))} {unit}",
                target,
            )
        )
    return Balance(fluid, produced, tuple(terms), residual, limit, closes, tuple(out))


def oil_balance(
    *,
    produced: Decimal,
    dispatched: Decimal,
    tanks: Sequence[TankStock] = (),
    consumption: Decimal = Decimal(0),
    losses: Decimal = Decimal(0),
    settings: BalanceSettings = DEFAULT_BALANCE_SETTINGS,
    target: str = "",
    unknown_tanks: Sequence[str] = (),
    stock_findings: Sequence[Finding] = (),
) -> Balance:
    """Oil: production = dispatch + Δ stock + consumption + losses (module docstring).

    ``unknown_tanks`` have no opening or closing stock (``stock_findings`` say why): the balance
    is then reported as not closed, whatever the residual of the tanks that are known.
    """
    names = [t.tank for t in tanks] + list(unknown_tanks)
    if len(set(names)) != len(names):
        raise AllocationError(f"a tank is given twice in the oil balance: {names}")
    gauge: list[Finding] = []
    for t in tanks:
        if t.capacity_bbl is None:
            continue
        for label, volume in (("opening", t.opening_bbl), ("closing", t.closing_bbl)):
            if volume > t.capacity_bbl:
                gauge.append(
                    Finding(
                        Code.TANK_GAUGE,
                        Severity.WARNING,
                        f"{label} stock {volume} bbl is above the tank's capacity "
                        f"{t.capacity_bbl} bbl: check the gauge",
                        t.tank,
                    )
                )
    stock = sum((t.change_bbl for t in tanks), Decimal(0))
    terms = (
        BalanceTerm("dispatched", dispatched),
        BalanceTerm("stock_change", stock),
        BalanceTerm("consumption", consumption),
        BalanceTerm("losses", losses),
    )
    gauge = [*stock_findings, *gauge]
    balance = close_balance("oil", produced, terms, settings.oil, target=target, findings=gauge)
    if not unknown_tanks:
        return balance
    unknown = Finding(
        Code.BALANCE_OPEN,
        Severity.WARNING,
        f"oil balance cannot close: the stock of tank(s) {', '.join(unknown_tanks)} is unknown "
        f"(see tank_level_stale / tank_stock_unknown); residual without them {balance.residual} "
        "bbl",
        target,
    )
    found = tuple(f for f in balance.findings if f.code is not Code.BALANCE_OPEN)
    return replace(
        balance, closes=False, findings=(*found, unknown), incomplete_terms=("stock_change",)
    )


def gas_balance(
    *,
    produced: Decimal,
    sold: Decimal = Decimal(0),
    fuel: Decimal = Decimal(0),
    flare: Decimal = Decimal(0),
    vent: Decimal = Decimal(0),
    reinjected: Decimal = Decimal(0),
    gas_lift: Decimal = Decimal(0),
    settings: BalanceSettings = DEFAULT_BALANCE_SETTINGS,
    target: str = "",
) -> Balance:
    """Gas: produced = sold + fuel + flare + vent + reinjected + gas lift."""
    terms = (
        BalanceTerm("sold", sold),
        BalanceTerm("fuel", fuel),
        BalanceTerm("flare", flare),
        BalanceTerm("vent", vent),
        BalanceTerm("reinjected", reinjected),
        BalanceTerm("gas_lift", gas_lift),
    )
    return close_balance("gas", produced, terms, settings.gas, target=target)


@dataclass(frozen=True)
class MeteredInjection:
    """The day's water injected by each metered injection well (bbl, by well code).

    ``incomplete`` wells have a meter whose series leaves part of the day without a volume (no
    readings and no basis for an estimate, no reading inside the day, a day in progress) or
    with too much of it estimated: their figure is what was counted, not taken as the day's.
    ``findings`` say what each meter's day was (gaps, estimates).
    """

    wells: Mapping[str, Decimal]
    incomplete: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()


INJECTION_TERM = "injection"
"""The water balance's injection term; per metered well ``injection:<well code>``."""


def water_balance(
    *,
    produced: Decimal,
    disposal: Decimal = Decimal(0),
    injection: Decimal | None = None,
    injection_wells: Mapping[str, Decimal] | None = None,
    incomplete_wells: Sequence[str] = (),
    meter_findings: Sequence[Finding] = (),
    settings: BalanceSettings = DEFAULT_BALANCE_SETTINGS,
    target: str = "",
) -> Balance:
    """Water: produced = disposal + injection.

    Injection is the injection PMO's volume (one term ``injection``), or, when no PMO total is
    given, each metered injection well's volume (one term ``injection:<well>`` per well; no
    wells: ``injection`` 0). With both, the PMO's volume is used (never both) and the wells'
    sum must match it within the tolerance, else a warning naming each well's volume.

    ``incomplete_wells`` (their meter left part of the day unknown; ``meter_findings`` say
    why) are never taken as complete: without a PMO the balance is reported as not closed,
    whatever the residual; with one, the wells are not compared with it.
    """
    wells = dict(sorted((injection_wells or {}).items()))
    for code, volume in wells.items():
        require_non_negative(f"water injected in well {code!r}", volume, "bbl")
    unknown = sorted(set(incomplete_wells) - set(wells))
    if unknown:
        raise AllocationError(f"incomplete injection wells {unknown} have no injected volume")
    by_wells = sum(wells.values(), Decimal(0))
    listed = ", ".join(f"{code} {volume}" for code, volume in wells.items())
    findings: list[Finding] = list(meter_findings)
    terms = [BalanceTerm("disposal", disposal)]
    if injection is None:
        terms += [BalanceTerm(f"{INJECTION_TERM}:{c}", v) for c, v in wells.items()] or [
            BalanceTerm(INJECTION_TERM, Decimal(0))
        ]
    else:
        terms.append(BalanceTerm(INJECTION_TERM, injection))
        limit = settings.water.of(injection)
        if wells and not incomplete_wells and abs(by_wells - injection) > limit:
            findings.append(
                Finding(
                    Code.BALANCE_OPEN,
                    Severity.WARNING,
                    f"injection wells add up to {by_wells} bbl ({listed}), the injection PMO "
                    f"measured {injection} bbl: the difference {by_wells - injection} bbl "
                    f"exceeds the tolerance {round_half_up(limit, Decimal('0.01'))} bbl",
                    target,
                )
            )
    balance = close_balance(
        "water", produced, terms, settings.water, target=target, findings=findings
    )
    if injection is not None or not incomplete_wells:
        return balance
    cannot = Finding(
        Code.BALANCE_OPEN,
        Severity.WARNING,
        f"water balance cannot close: the injection meter of well(s) "
        f"{', '.join(sorted(incomplete_wells))} left part of the day without a volume or "
        f"with too much of it estimated (see injection_meter_gap); residual with what the "
        f"wells counted ({listed}) "
        f"{balance.residual} bbl",
        target,
    )
    found = tuple(f for f in balance.findings if f.code is not Code.BALANCE_OPEN)
    incomplete = tuple(f"{INJECTION_TERM}:{w}" for w in sorted(incomplete_wells))
    return replace(balance, closes=False, findings=(*found, cannot), incomplete_terms=incomplete)


@dataclass(frozen=True)
class FieldBalances:
    """The day's three balances."""

    oil: Balance | None
    gas: Balance | None
    water: Balance | None
    unused: tuple[Finding, ...] = ()
    """What was given for a balance the day does not have (oil consumption without oil)."""

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every balance's findings."""
        found = tuple(f for b in (self.oil, self.gas, self.water) if b for f in b.findings)
        return (*found, *self.unused)


def balances_from_totals(
    totals: FieldTotals,
    *,
    tanks: Sequence[TankStock] = (),
    oil_consumption: Decimal = Decimal(0),
    oil_losses: Decimal = Decimal(0),
    settings: BalanceSettings = DEFAULT_BALANCE_SETTINGS,
    target: str = "",
    unknown_tanks: Sequence[str] = (),
    stock_findings: Sequence[Finding] = (),
    injection: MeteredInjection | None = None,
) -> FieldBalances:
    """The three balances from the topology's totals by role (a fluid without production: None).

    Oil dispatch is the ``sales`` total; gas dispositions are the sales, fuel, flare, vent,
    reinjection and gas-lift totals; water dispositions the disposal and injection totals, the
    metered injection wells' volumes (``injection``) standing in for the injection total when
    no injection PMO has a volume (and checked against it when one has).
    Oil consumption and losses are the field's own (typed by hand, bbl at 60 °F); given for a
    day without an oil production volume they are not dropped silently: a warning says they
    count nowhere.
    """
    oil = gas = water = None
    unused: tuple[Finding, ...] = ()
    if ("oil", Role.PRODUCTION) in totals.totals:
        oil = oil_balance(
            produced=totals.total("oil", Role.PRODUCTION),
            dispatched=totals.total("oil", Role.SALES),
            tanks=tanks,
            consumption=oil_consumption,
            losses=oil_losses,
            settings=settings,
            target=target,
            unknown_tanks=unknown_tanks,
            stock_findings=stock_findings,
        )
    elif oil_consumption or oil_losses:
        unused = (
            Finding(
                Code.BALANCE_OPEN,
                Severity.WARNING,
                f"oil consumption {oil_consumption} bbl and losses {oil_losses} bbl were entered "
                "for the day, but it has no oil production volume, so no oil balance: they count "
                "nowhere",
                target,
            ),
        )
    if ("gas", Role.PRODUCTION) in totals.totals:
        gas = gas_balance(
            produced=totals.total("gas", Role.PRODUCTION),
            sold=totals.total("gas", Role.SALES),
            fuel=totals.total("gas", Role.FUEL),
            flare=totals.total("gas", Role.FLARE),
            vent=totals.total("gas", Role.VENT),
            reinjected=totals.total("gas", Role.REINJECTION),
            gas_lift=totals.total("gas", Role.GAS_LIFT),
            settings=settings,
            target=target,
        )
    if ("water", Role.PRODUCTION) in totals.totals:
        metered = injection or MeteredInjection({})
        water = water_balance(
            produced=totals.total("water", Role.PRODUCTION),
            disposal=totals.total("water", Role.WATER_DISPOSAL),
            injection=totals.totals.get(("water", Role.WATER_INJECTION)),
            injection_wells=metered.wells,
            incomplete_wells=metered.incomplete,
            meter_findings=metered.findings,
            settings=settings,
            target=target,
        )
    return FieldBalances(oil, gas, water, unused)
