"""A small test site and a way to write exact telemetry for it (shared by production/reports)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import psycopg

from anh_reporter.domain.timeutil import to_us
from anh_reporter.site import Site
from anh_reporter.storage.series_repo import list_series
from anh_reporter.storage.site_repo import load_site_into
from anh_reporter.storage.telemetry import TelemetryWriter

FIELD = "CAMPO-TEST"
US = 1_000_000
HOUR = 3600 * US
DAY = 24 * HOUR
# Contract day 2026-02-02, 06:00 America/Bogota (UTC-5) = 11:00 UTC, to 2026-02-03 11:00 UTC.
DAY_D = dt.date(2026, 2, 2)
START = dt.datetime(2026, 2, 2, 11, tzinfo=dt.UTC)
S = to_us(START)
E = S + DAY
AFTER = dt.datetime(2026, 2, 4, tzinfo=dt.UTC)  # a time when the day is over


def _series(variable: str, unit: str, lo: float, hi: float, period: float, **extra: Any) -> dict:
    return {
        "variable": variable,
        "unit": unit,
        "range": [lo, hi],
        "sampling_period_s": period,
        "commissioned": "2025-01-01",
        **extra,
    }


def site_dict(
    *, timezone: str = "America/Bogota", start_hour: int = 6, report_type: str = "A"
) -> dict[str, Any]:
    """One oil PMO (totalizer + rate + properties), one water PMO (rate), one gas PMO."""
    return {
        "operator": {"name": "Operadora de Prueba S.A.S.", "nit": "900000001-2"},
        "fields": [
            {
                "code": FIELD,
                "name": "Campo de Prueba",
                "contract": "TEST-2020",
                "municipality_dane": "50568",
                "timezone": timezone,
                "contract_day_start_hour": start_hour,
                "report_type": report_type,
                "pmos": [
                    {
                        "code": "PMO-OIL",
                        "name": "LACT",
                        "kind": "oil",
                        "meter": {
                            "type": "coriolis",
                            "has_totalizer": True,
                            "meter_factor": 1.0008,
                        },
                        "series": [
                            _series(
                                "oil_total",
                                "bbl",
                                0,
                                9_999_999.99,
                                600,
                                rollover=1e7,
                                resolution=0.01,
                            ),
                            _series("oil_rate", "bbl/d", 0, 1e5, 600),
                            _series("meter_temperature", "degF", 0, 300, 600),
                            _series("meter_pressure", "psig", 0, 1500, 600),
                            _series("bsw", "%", 0, 100, 600),
                            _series("api_gravity", "degAPI", 5, 60, 600, basis="base"),
                        ],
                    },
                    {
                        "code": "PMO-WATER",
                        "name": "Agua",
                        "kind": "water",
                        "meter": {
                            "type": "turbine",
                            "has_totalizer": False,
                            "meter_factor": 0.9985,
                        },
                        "series": [
                            _series("water_rate", "bbl/d", 0, 1e6, 600),
                            _series("meter_temperature", "degF", 0, 300, 600),
                        ],
                    },
                    {
                        "code": "PMO-GAS",
                        "name": "Gas",
                        "kind": "gas",
                        "meter": {"type": "orifice", "has_totalizer": True, "meter_factor": 1.0},
                        "series": [_series("gas_total", "kscf", 0, 4294967295, 600)],
                    },
                ],
                "wells": [
                    {"code": "W-1", "name": "Pozo 1", "pmo": "PMO-OIL"},
                    {"code": "W-2", "name": "Pozo 2", "pmo": "PMO-OIL"},
                    {"code": "W-3", "name": "Pozo 3", "pmo": "PMO-OIL"},
                ],
            }
        ],
    }


def load_test_site(conn: psycopg.Connection[Any], **kwargs: Any) -> dict[str, int]:
    """Load the test site; the series ids by ``OWNER.variable``."""
    load_site_into(conn, Site.model_validate(site_dict(**kwargs)), changed_by="test")
    return {r.code.split(".", 1)[1]: r.id for r in list_series(conn, FIELD)}


def grid(start_us: int = S, end_us: int = E, step_s: int = 600) -> np.ndarray:
    """Sample times every ``step_s`` from one step before ``start_us`` to ``end_us`` inclusive."""
    return np.arange(start_us - step_s * US, end_us + 1, step_s * US, dtype=np.int64)


def write(
    conn: psycopg.Connection[Any],
    series_id: int,
    times: np.ndarray,
    values: np.ndarray | Callable[[np.ndarray], np.ndarray] | float,
    quality: np.ndarray | None = None,
) -> None:
    """Write readings of one series (rollups updated by the writer)."""
    if callable(values):
        v = values(times)
    elif isinstance(values, float | int):
        v = np.full(times.size, float(values))
    else:
        v = values
    q = np.zeros(times.size, dtype=np.uint32) if quality is None else quality
    TelemetryWriter(conn).write(
        np.full(times.size, series_id, dtype=np.int32), times, v.astype(np.float64), q
    )
    conn.commit()


def standard_day(
    conn: psycopg.Connection[Any],
    ids: dict[str, int],
    *,
    oil_temperature_f: float = 60.0,
    oil_bbl_d: float = 1000.0,
) -> None:
    """The reference day, every figure worked out by hand in test_daily.py.

    Oil: totalizer 1000 bbl/d (``oil_bbl_d``) linear from 5,000 bbl; rate the same; 60.0 °F;
    0 psig; BSW 2.00 %; API 30.0. Water: 500 bbl/d for 12 h, then 1500 bbl/d; 90 °F then
    110 °F. Gas: totalizer 1,200 kscf/d linear.
    """
    oil_and_gas_day(conn, ids, oil_temperature_f=oil_temperature_f, oil_bbl_d=oil_bbl_d)
    t = grid()
    k = (t - S) // (600 * US)
    write(conn, ids["PMO-WATER.water_rate"], t, np.where(k < 72, 500.0, 1500.0))
    write(conn, ids["PMO-WATER.meter_temperature"], t, np.where(k < 72, 90.0, 110.0))


def oil_and_gas_day(
    conn: psycopg.Connection[Any],
    ids: dict[str, int],
    *,
    oil_temperature_f: float = 60.0,
    oil_bbl_d: float = 1000.0,
) -> None:
    """The reference day's oil and gas PMOs (:func:`standard_day` without its water)."""
    t = grid()
    days = (t - S) / DAY
    write(conn, ids["PMO-OIL.oil_total"], t, 5000.0 + oil_bbl_d * days)
    write(conn, ids["PMO-OIL.oil_rate"], t, oil_bbl_d)
    write(conn, ids["PMO-OIL.meter_temperature"], t, oil_temperature_f)
    write(conn, ids["PMO-OIL.meter_pressure"], t, 0.0)
    write(conn, ids["PMO-OIL.bsw"], t, 2.0)
    write(conn, ids["PMO-OIL.api_gravity"], t, 30.0)
    write(conn, ids["PMO-GAS.gas_total"], t, 1200.0 * days + 10_000.0)


def prove_meters(conn: psycopg.Connection[Any], *, factors: dict[str, float] | None = None) -> None:
    """Record a proving of each PMO's meter ten days before the day, at its site-file factor."""
    from anh_reporter.production.config import load_field
    from anh_reporter.production.provings import record_proving

    for pmo in load_field(conn, FIELD).pmos:
        record_proving(
            conn,
            field_code=FIELD,
            pmo_code=pmo.code,
            meter_factor=(factors or {}).get(pmo.code, pmo.meter_factor),
            proved_at=START - dt.timedelta(days=10),
            run_reference=f"PR-{pmo.code}",
            proved_by="metrology",
            recorded_by="t",
            recompute=False,
        )
