"""A field's oil consumption and losses of a day: the oil balance's two terms typed by hand.

They are field-level manual entries (:mod:`~anh_reporter.production.manual`, kinds
``oil_consumption`` and ``oil_losses``, bbl at 60 °F, no PMO and no well). Every active entry of
the day counts: the losses of a day may be several (a spill and the tanks' evaporation), each
with its own reason; a wrong one is corrected by replacing it, never by adding another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg

Conn = psycopg.Connection[Any]

TERM_OF_KIND = {"oil_consumption": "consumption", "oil_losses": "losses"}
"""The field-level entry kind of each oil balance term it feeds."""


@dataclass(frozen=True)
class OilTerms:
    """The day's oil consumption and losses (Σ of the active entries) and the entries' ids."""

    consumption: Decimal = Decimal(0)
    losses: Decimal = Decimal(0)
    entry_ids: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """As stored with the day's totals (the entries a balance term rests on)."""
        return {
            "consumption": str(self.consumption),
            "losses": str(self.losses),
            "manual_entry_ids": list(self.entry_ids),
        }


def day_oil_terms(conn: Conn, field_id: int, day: dt.date) -> OilTerms:
    """The active ``oil_consumption`` and ``oil_losses`` entries of the field's day, summed."""
    rows = conn.execute(
        "SELECT id, kind, value FROM manual_entries WHERE field_id = %s AND contract_day = %s "
        "AND pmo_id IS NULL AND well_id IS NULL AND superseded_by IS NULL AND kind = ANY(%s) "
        "ORDER BY id",
        (field_id, day, list(TERM_OF_KIND)),
    ).fetchall()
    sums = dict.fromkeys(TERM_OF_KIND.values(), Decimal(0))
    for _, kind, value in rows:
        sums[TERM_OF_KIND[kind]] += Decimal(value)
    return OilTerms(sums["consumption"], sums["losses"], tuple(int(r[0]) for r in rows))


def stored_entry_ids(totals: Mapping[str, Any]) -> list[int]:
    """The ids of the entries a stored day's consumption and losses rest on (its totals)."""
    return [int(i) for i in (totals.get("oil_terms") or {}).get("manual_entry_ids", [])]
