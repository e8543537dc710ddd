"""Well records entered by people: well tests, downtime events, status changes, hours on.

A test is typed (:func:`add_well_test`) or read from a test separator's series over a window
(:mod:`~anh_reporter.production.separator_tests`); both are stored by :func:`store_well_test`.

Each entry is checked (a value outside its range is refused with a message naming the field,
the value and the limit), stored with who and when, written to the audit log, and the stored
contract days it touches are allocated again (:func:`reallocate`): a test changes every stored
day from its date on, a downtime event the days it overlaps, a status change the days from it
on. Hours on typed by hand are a manual entry of kind ``well_hours_on``
(:func:`~anh_reporter.production.manual.add_entry`), which recomputes its day.

If a touched day's report was already signed and its well figures change, the report is marked
as needing an amendment.

Nothing is accepted for a time that has not come: a test dated after the field's current
contract day (:func:`current_contract_day`), a downtime event or a status change at an instant
later than now is refused (``now`` is a parameter, the clock by default). A test's rates
are at most :data:`MAX_RATE` with at most :data:`RATE_PLACES` decimals, as the API's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg

from anh_reporter.allocation.errors import AllocationError
from anh_reporter.allocation.hours_on import WellStatus
from anh_reporter.allocation.well_tests import WellTest
from anh_reporter.errors import AnhError
from anh_reporter.production.config import FieldConfig, load_field
from anh_reporter.production.contract_day import ContractDay, contract_day_of
from anh_reporter.production.store import flag_issued_report
from anh_reporter.production.well_days import allocate_day, allocation_config
from anh_reporter.storage import audit_log
from anh_reporter.storage import well_records as records

Conn = psycopg.Connection[Any]
REALLOCATE_DAYS = 400
"""A test or status change reallocates the stored days from its date over at most this span."""
MAX_DOWNTIME_DAYS = 31
"""A downtime event longer than this is a status change (shut in, workover), not downtime."""
MAX_RATE = Decimal(10_000_000)
"""The highest oil, gas or water rate a well test may give (bbl/d, kscf/d)."""
RATE_PLACES = 4
"""A test rate has at most this many decimals."""


class WellEntryError(AnhError):
    """A well record that cannot be accepted; the message names the field, value and limit."""


@dataclass(frozen=True)
class WellEntryResult:
    """What was stored, and the stored days allocated again."""

    id: int
    reallocated: tuple[dt.date, ...]
    needs_amendment: tuple[dt.date, ...]


def _number(field: str, value: Decimal | float | str | int) -> Decimal:
    try:
        out = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise WellEntryError(f"{field}: {value!r} is not a number") from None
    if not out.is_finite():
        raise WellEntryError(f"{field}: {value!r} is not a finite number")
    return out


def _rate(field: str, value: Decimal | float | str, unit: str) -> Decimal:
    """A test rate: a finite number, at most :data:`MAX_RATE`, :data:`RATE_PLACES` decimals
    (a negative one is refused by the test itself, naming the limit 0)."""
    rate = _number(field, value)
    if rate > MAX_RATE:
        raise WellEntryError(f"{field}: {rate} {unit} is above the limit {MAX_RATE} {unit}")
    exponent = rate.normalize().as_tuple().exponent  # trailing zeros are no decimals
    if isinstance(exponent, int) and exponent < -RATE_PLACES:
        raise WellEntryError(f"{field}: {rate} {unit} has more than {RATE_PLACES} decimals")
    return rate


def current_contract_day(config: FieldConfig, now: dt.datetime | None = None) -> ContractDay:
    """The field's contract day at ``now`` (aware; default: the clock), in its time zone."""
    return config.today(None if now is None else aware_time("now", now))


def _not_future_day(name: str, day: dt.date, today: ContractDay) -> None:
    if day > today.day:
        raise WellEntryError(
            f"{name}: {day} has not come; the field's current contract day is {today.day}"
        )


def _not_future_time(name: str, at: dt.datetime, now: dt.datetime | None) -> None:
    """``at`` must not be later than ``now`` (default: the clock): what is entered happened."""
    clock = dt.datetime.now(dt.UTC) if now is None else aware_time("now", now)
    if at > clock:
        raise WellEntryError(
            f"{name}: {at.isoformat()} has not come (it is {clock.isoformat(timespec='seconds')} "
            "now): enter what happened, once it has"
        )


def well_id_of(conn: Conn, config: FieldConfig, code: str) -> int:
    """The id of well ``code`` of the field; a clear error when it is not one of its wells."""
    found = records.well_id(conn, config.id, code)
    if found is None:
        raise WellEntryError(f"well: {code!r} is not a well of field {config.code}")
    return found


def _audit(conn: Conn, actor: str, action: str, target: str, details: dict[str, Any]) -> None:
    audit_log.record(
        conn, actor=actor, action=action, target=target, details=details,
        field_code=target.split("/", 1)[0],
    )  # fmt: skip


def reallocate(conn: Conn, config: FieldConfig, days: list[dt.date]) -> WellEntryResult:
    """Allocate ``days`` again (each stored day), flag signed reports that change; commit."""
    amend = []
    for day in days:
        in_force = load_field(conn, config.code, day=day)
        result = allocate_day(conn, in_force, in_force.day(day))
        if result is not None and result.changed and flag_issued_report(conn, config.id, day):
            amend.append(day)
    conn.commit()
    return WellEntryResult(0, tuple(days), tuple(amend))


def _stored_from(conn: Conn, config: FieldConfig, first: dt.date) -> list[dt.date]:
    return records.allocated_days(
        conn, config.id, first, first + dt.timedelta(days=REALLOCATE_DAYS)
    )


def add_well_test(
    conn: Conn,
    *,
    field_code: str,
    well_code: str,
    tested_on: dt.date,
    duration_h: Decimal | float | str,
    oil_bbl_d: Decimal | float | str,
    gas_kscf_d: Decimal | float | str,
    water_bbl_d: Decimal | float | str,
    tested_by: str,
    entered_by: str,
    bsw_pct: Decimal | float | str | None = None,
    source: str = "manual",
    accepted: bool = True,
    notes: str = "",
    replaces: int | None = None,
    pump_speed: Decimal | float | str | None = None,
    now: dt.datetime | None = None,
) -> WellEntryResult:
    """Store a well test (checked by :class:`~anh_reporter.allocation.well_tests.WellTest`).

    ``pump_speed`` is the pump's speed during the test (ESP Hz, rod pump spm, PCP rpm): the
    virtual meter calibrates on it when the well's speed series has no data for the test day.
    A test dated after the field's contract day at ``now`` (default: the clock) is refused.
    """
    config = load_field(conn, field_code)
    well_id_of(conn, config, well_code)
    speed = None if pump_speed is None else _pump_speed(conn, config, well_code, pump_speed)
    if source not in ("manual", "test_separator"):
        raise WellEntryError(f"source: {source!r} is not one of 'manual', 'test_separator'")
    if not entered_by.strip():
        raise WellEntryError("entered_by: empty; say who enters the test")
    duration = _number("duration_h", duration_h)
    oil, gas = _rate("oil_bbl_d", oil_bbl_d, "bbl/d"), _rate("gas_kscf_d", gas_kscf_d, "kscf/d")
    water = _rate("water_bbl_d", water_bbl_d, "bbl/d")
    bsw = None if bsw_pct is None else _number("bsw_pct", bsw_pct)
    values: dict[str, Decimal | None] = {
        "duration_h": duration,
        "oil_bbl_d": oil,
        "gas_kscf_d": gas,
        "water_bbl_d": water,
        "bsw_pct": bsw,
    }
    if speed is not None:
        values["pump_speed"] = speed
    try:
        WellTest(well_code, tested_on, duration, oil, gas, water, tested_by, bsw)
    except AllocationError as exc:
        raise WellEntryError(str(exc)) from None
    return store_well_test(
        conn, config, well_code=well_code, tested_on=tested_on,
        values={**values, "source": source, "accepted": accepted, "tested_by": tested_by,
                "notes": notes},
        audit=values, entered_by=entered_by, replaces=replaces, now=now,
    )  # fmt: skip


def store_well_test(
    conn: Conn,
    config: FieldConfig,
    *,
    well_code: str,
    tested_on: dt.date,
    values: dict[str, Any],
    audit: dict[str, Any],
    entered_by: str,
    replaces: int | None,
    now: dt.datetime | None = None,
) -> WellEntryResult:
    """Store a checked test (``values``: its columns), audit it, allocate the touched days.

    The one path of every test (typed by hand or read from a test separator): a test that
    ``replaces`` another marks it superseded; the stored days from the earlier of the two
    dates on are allocated again, and signed reports whose well figures change are flagged
    for an amendment. ``audit`` is what the audit log keeps beside the id and the date. A test
    dated after the field's contract day at ``now`` (default: the clock) is refused.
    """
    well = well_id_of(conn, config, well_code)
    _not_future_day("tested_on", tested_on, current_contract_day(config, now))
    if replaces is not None:
        old = records.well_test(conn, replaces)
        if old is None or old.well != well_code:
            raise WellEntryError(f"replaces: well test #{replaces} is not a test of {well_code}")
        if old.superseded_by is not None:
            raise WellEntryError(
                f"replaces: well test #{replaces} was already replaced by #{old.superseded_by}"
            )
    with conn.transaction():
        new_id = records.insert_well_test(
            conn,
            well,
            {"tested_on": tested_on, **values, "entered_by": entered_by},
            replaces=replaces,
        )
        _audit(
            conn, entered_by, "well_test.add", f"{config.code}/{well_code}",
            {"id": new_id, "tested_on": tested_on, **audit, "replaces": replaces},
        )  # fmt: skip
    first = tested_on if replaces is None else min(tested_on, _test_date(conn, replaces))
    done = reallocate(conn, config, _stored_from(conn, config, first))
    return WellEntryResult(new_id, done.reallocated, done.needs_amendment)


PUMP_SPEED_LIMITS = {"esp": ("Hz", 120), "rod_pump": ("spm", 40), "pcp": ("rpm", 1500)}
"""The unit and the highest plausible speed of each lift method during a test."""


def _pump_speed(
    conn: Conn, config: FieldConfig, well_code: str, value: Decimal | float | str
) -> Decimal:
    method = next(
        w.production_method
        for w in records.load_topology_rows(conn, config.id).wells
        if w.code == well_code
    )
    if method not in PUMP_SPEED_LIMITS:
        raise WellEntryError(
            f"pump_speed: well {well_code} is {method}; a pump speed applies to "
            f"{sorted(PUMP_SPEED_LIMITS)} wells"
        )
    unit, top = PUMP_SPEED_LIMITS[method]
    speed = _number("pump_speed", value)
    if not 0 < speed <= top:
        raise WellEntryError(f"pump_speed: {speed} {unit} is outside (0, {top}] {unit}")
    return speed


def _test_date(conn: Conn, test_id: int) -> dt.date:
    old = records.well_test(conn, test_id)
    assert old is not None  # noqa: S101 - checked before the insert
    return old.tested_on


def well_test_history(
    conn: Conn, *, field_code: str, well_code: str, include_superseded: bool = False
) -> list[records.WellTestRow]:
    """The well's tests, oldest first."""
    config = load_field(conn, field_code)
    well_id_of(conn, config, well_code)
    return records.well_tests_of_field(
        conn, config.id, well=well_code, include_superseded=include_superseded
    )


def aware_time(name: str, value: dt.datetime) -> dt.datetime:
    """``value`` when it has a time zone; else an error naming ``name``."""
    if value.tzinfo is None:
        raise WellEntryError(f"{name}: {value.isoformat()} has no time zone; give one (or UTC)")
    return value


def add_downtime(
    conn: Conn,
    *,
    field_code: str,
    well_code: str,
    start: dt.datetime,
    end: dt.datetime,
    cause: str,
    entered_by: str,
    comment: str = "",
    replaces: int | None = None,
    now: dt.datetime | None = None,
) -> WellEntryResult:
    """Store a downtime event of a well over ``[start, end)`` for a cause of the field's list.

    The event must end by the end of the field's contract day at ``now`` (default: the clock).
    """
    config = load_field(conn, field_code)
    well = well_id_of(conn, config, well_code)
    start, end = aware_time("start", start), aware_time("end", end)
    _not_future_time("start", start, now)
    _not_future_time("end", end, now)
    if end <= start:
        raise WellEntryError(f"end: {end.isoformat()} must be after start {start.isoformat()}")
    if end - start > dt.timedelta(days=MAX_DOWNTIME_DAYS):
        raise WellEntryError(
            f"end: the event lasts {end - start}, more than {MAX_DOWNTIME_DAYS} days; "
            "log a status change (shut_in, workover) for a long stop"
        )
    causes = allocation_config(records.load_topology_rows(conn, config.id).allocation).causes
    if cause not in causes.codes:
        raise WellEntryError(f"cause: {cause!r} is not on the field's list {list(causes.codes)}")
    if not entered_by.strip():
        raise WellEntryError("entered_by: empty; say who enters the event")
    if replaces is not None:
        old = records.downtime_event(conn, replaces)
        if old is None or old.well != well_code or old.superseded_by is not None:
            raise WellEntryError(
                f"replaces: downtime event #{replaces} is not an active event of {well_code}"
            )
    overlap = records.downtime_events(conn, config.id, start, end, well=well_code, exclude=replaces)
    if overlap:
        o = overlap[0]
        raise WellEntryError(
            f"start/end: {start.isoformat()} to {end.isoformat()} overlaps downtime event "
            f"#{o.id} ({o.cause}, {o.starts_at.isoformat()} to {o.ends_at.isoformat()}); "
            "replace that event instead"
        )
    with conn.transaction():
        new_id = records.insert_downtime(
            conn, well, (start, end), cause, comment, entered_by, replaces=replaces
        )
        _audit(
            conn, entered_by, "downtime.add", f"{field_code}/{well_code}",
            {"id": new_id, "start": start, "end": end, "cause": cause, "replaces": replaces},
        )  # fmt: skip
    first = contract_day_of(start, timezone=config.timezone, start_hour=config.start_hour).day
    last = contract_day_of(
        end - dt.timedelta(microseconds=1), timezone=config.timezone, start_hour=config.start_hour
    ).day
    if replaces is not None:
        old = records.downtime_event(conn, replaces)
        assert old is not None  # noqa: S101 - checked above
        first = min(
            first,
            contract_day_of(
                old.starts_at, timezone=config.timezone, start_hour=config.start_hour
            ).day,
        )
    done = reallocate(conn, config, records.allocated_days(conn, config.id, first, last))
    return WellEntryResult(new_id, done.reallocated, done.needs_amendment)


def add_status_change(
    conn: Conn,
    *,
    field_code: str,
    well_code: str,
    at: dt.datetime,
    status: str,
    changed_by: str,
    reason: str = "",
    now: dt.datetime | None = None,
) -> WellEntryResult:
    """Log a well's status change at ``at``; the stored days from its day on are reallocated.

    ``at`` must fall in the field's contract day at ``now`` (default: the clock) or before.
    """
    config = load_field(conn, field_code)
    well = well_id_of(conn, config, well_code)
    at = aware_time("at", at)
    _not_future_time("at", at, now)
    statuses = [s.value for s in WellStatus]
    if status not in statuses:
        raise WellEntryError(f"status: {status!r} is not one of {statuses}")
    if not changed_by.strip():
        raise WellEntryError("changed_by: empty; say who changes the status")
    with conn.transaction():
        new_id = records.insert_status_change(conn, well, at, status, reason, changed_by)
        _audit(
            conn, changed_by, "well_status.add", f"{field_code}/{well_code}",
            {"id": new_id, "at": at, "status": status, "reason": reason},
        )  # fmt: skip
    first = contract_day_of(at, timezone=config.timezone, start_hour=config.start_hour).day
    done = reallocate(conn, config, _stored_from(conn, config, first))
    return WellEntryResult(new_id, done.reallocated, done.needs_amendment)
