"""Storage tank stock for the oil balance: a tank's opening and closing gauges of a day.

A storage tank is a site-file tank without a PMO (a tank *with* one is a measurement tank whose
gauging is that PMO's volume: ``manual tank``). Its opening and closing gauges go through API
MPMS 12.1.1 (:func:`~anh_reporter.production.tank_gauging.transfer`: TOV, free water, CTSh,
roof, CTL, CSW) and are kept, every step, in ``tank_stocks``; a second entry for the same tank
and day supersedes the first. The day is then computed again, so the oil balance's Δ stock
(Σ closing − opening) and its residual follow the gauges (``production/well_days.py``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import orjson
import psycopg

from anh_reporter.production.config import load_field
from anh_reporter.production.daily import compute_day
from anh_reporter.production.manual import not_after_today
from anh_reporter.production.tank_gauging import Gauge, TankGaugingError, load_tank, transfer
from anh_reporter.storage import audit_log
from anh_reporter.storage.database import returned

Conn = psycopg.Connection[Any]


def add_tank_stock(
    conn: Conn,
    *,
    field_code: str,
    day: dt.date,
    tank: str,
    opening: Gauge,
    closing: Gauge,
    api60: Decimal,
    bsw_percent: Decimal,
    entered_by: str,
    reason: str,
    recompute: bool = True,
    now: dt.datetime | None = None,
) -> int:
    """Store a storage tank's gauges of ``day`` (superseding earlier ones); the new row's id.

    ``day`` cannot be after the field's current contract day at ``now`` (default: the clock).
    """
    if not entered_by.strip() or not reason.strip():
        raise TankGaugingError("a tank stock needs who enters it and why (entered_by, reason)")
    config = load_field(conn, field_code)
    not_after_today(config, day, now, TankGaugingError)
    pmo_id, definition = load_tank(conn, config.id, tank)
    if pmo_id is not None:
        raise TankGaugingError(
            f"tank {tank} gives a PMO's volume (a measurement tank): enter its gauging with "
            "`manual tank`, not as stock"
        )
    moved, details = transfer(
        tank, definition, opening, closing, api60=api60, bsw_percent=bsw_percent
    )
    details |= {"api60": str(api60), "bsw_percent": str(bsw_percent)}
    with conn.transaction():
        (tank_id,) = returned(
            conn.execute(
                "SELECT id FROM tanks WHERE field_id = %s AND code = %s", (config.id, tank)
            ).fetchone()
        )
        row = conn.execute(
            "INSERT INTO tank_stocks (field_id, tank_id, contract_day, opening_nsv, closing_nsv, "
            "details, entered_by, reason) VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s) "
            "RETURNING id",
            (config.id, tank_id, day, moved.opening.net_standard_volume,
             moved.closing.net_standard_volume, orjson.dumps(details).decode(), entered_by,
             reason),
        ).fetchone()  # fmt: skip
        (new_id,) = returned(row)
        conn.execute(
            "UPDATE tank_stocks SET superseded_by = %s WHERE tank_id = %s AND contract_day = %s "
            "AND id <> %s AND superseded_by IS NULL",
            (new_id, tank_id, day, new_id),
        )
        audit_log.record(
            conn, actor=entered_by, action="tank_stock.add", target=f"{field_code}.{tank}",
            details={"day": day.isoformat(), "id": new_id, "reason": reason},
            field_code=field_code,
        )  # fmt: skip
    if recompute:
        compute_day(conn, field_code, day)
    return int(new_id)
