"""Revision 0019: upstream PMOs in ``measurement_point_upstreams``, and back while each PMO has
at most one."""

from __future__ import annotations

import pytest

from anh_reporter.site import Site
from anh_reporter.storage import migrate
from anh_reporter.storage.database import Database
from anh_reporter.storage.site_repo import load_site_into

from ..production.two_batteries_site import two_batteries_dict

UPSTREAM_OF = (
    "SELECT p.code, u.code FROM measurement_points p "
    "JOIN measurement_points u ON u.id = p.downstream_of_id ORDER BY p.code"
)


def test_downgrade_refuses_several_upstreams_then_keeps_one_and_upgrades_back(
    empty_db: Database,
) -> None:
    migrate.upgrade(empty_db)
    with empty_db.connect() as conn:
        load_site_into(conn, Site.model_validate(two_batteries_dict()), changed_by="t")
        conn.commit()
    with pytest.raises(Exception, match=r"PMO\(s\) CAMPO-TEST\.ST-OIL are downstream of more"):
        migrate.downgrade(empty_db, "0018")
    assert migrate.current_revision(empty_db) == migrate.head_revision()  # nothing undone

    # BAT-2 rerouted through BAT-1's meter: one upstream PMO each, so the column holds them.
    raw = two_batteries_dict()
    raw["fields"][0]["pmos"][0]["downstream_of"] = "B2-T"
    raw["fields"][0]["pmos"][2]["downstream_of"] = "B1-T"
    with empty_db.connect() as conn:
        load_site_into(conn, Site.model_validate(raw), changed_by="t")
        conn.commit()
    migrate.downgrade(empty_db, "0018")
    with empty_db.connect() as conn:
        links = [("B1-T", "B2-T"), ("LACT", "ST-OIL"), ("ST-OIL", "B1-T")]
        assert conn.execute(UPSTREAM_OF).fetchall() == links
    migrate.upgrade(empty_db)
    with empty_db.connect() as conn:
        stored = conn.execute(
            "SELECT p.code, u.code FROM measurement_point_upstreams x "
            "JOIN measurement_points p ON p.id = x.pmo_id "
            "JOIN measurement_points u ON u.id = x.upstream_id ORDER BY p.code"
        ).fetchall()
        assert stored == links
