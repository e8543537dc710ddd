"""A tank's level telemetry in the site file: the series and PMO it names must exist and fit."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from anh_reporter.site import SiteFileError, load_site

from .production.helpers import FIELD, _series, site_dict

LEVEL = f"{FIELD}.TK-1.tank_level"
TEMPERATURE = f"{FIELD}.TK-1.tank_temperature"


def site(**telemetry: Any) -> dict[str, Any]:
    raw = site_dict()
    field = raw["fields"][0]
    field["pmos"][0]["series"] += [
        _series("tank_level", "ft", 0, 20, 60, code=LEVEL),
        _series("tank_temperature", "degF", 40, 250, 60, code=TEMPERATURE),
        _series("tank_level", "m", 0, 6, 60, code=f"{FIELD}.TK-1.level_m"),
    ]
    conf = {"level_series": LEVEL, "temperature_series": TEMPERATURE, "oil_from": "PMO-OIL"}
    conf |= {"ambient_f": 86.0}
    field["tanks"] = [
        {
            "code": "TK-1",
            "name": "Tanque 1",
            "strapping": [[0, 0], [20, 2000]],
            "level_telemetry": {k: v for k, v in (conf | telemetry).items() if v is not None},
        }
    ]
    return raw


def load(tmp_path: Path, raw: dict[str, Any]) -> Any:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return load_site(path)


def test_a_tank_names_its_level_and_temperature_series(tmp_path: Path) -> None:
    tank = load(tmp_path, site()).fields[0].tanks[0]
    assert tank.level_telemetry is not None
    assert (tank.level_telemetry.level_series, tank.level_telemetry.max_age_s) == (LEVEL, 1800)
    assert tank.level_telemetry.stuck_after_s == 21_600


@pytest.mark.parametrize(
    ("telemetry", "message"),
    [
        (
            {"level_series": "F.X.tank_level"},
            r"tanks\[0\]\.level_telemetry\.level_series: 'F\.X\.tank_level' is not a series of "
            r"field 'CAMPO-TEST' \(its tank_level series: \['CAMPO-TEST\.TK-1\.level_m', "
            r"'CAMPO-TEST\.TK-1\.tank_level'\]\)",
        ),
        (
            {"level_series": TEMPERATURE},
            r"level_series: series 'CAMPO-TEST\.TK-1\.tank_temperature' is a 'tank_temperature' "
            r"series, expected 'tank_level'",
        ),
        (
            {"level_series": f"{FIELD}.TK-1.level_m"},
            r"level_series: series 'CAMPO-TEST\.TK-1\.level_m' is in 'm', tank 'TK-1' needs 'ft' "
            r"\(its level_unit, the strapping table's\)",
        ),
        (
            {"oil_from": "PMO-WATER"},
            r"oil_from: 'PMO-WATER' is not an oil PMO of field 'CAMPO-TEST' \(its oil PMOs: "
            r"\['PMO-OIL'\]\)",
        ),
        (
            {"temperature_series": None},
            r"give the liquid temperature as temperature_series .* or temperature_f",
        ),
        ({"ambient_f": None}, r"tank 'TK-1': level_telemetry\.ambient_f is required"),
        ({"max_age_s": 0}, r"max_age_s: Input should be greater than 0"),
    ],
)
def test_bad_level_telemetry_is_named(
    tmp_path: Path, telemetry: dict[str, Any], message: str
) -> None:
    with pytest.raises(SiteFileError, match=message):
        load(tmp_path, site(**telemetry))


def test_a_measurement_tank_has_no_level_telemetry(tmp_path: Path) -> None:
    raw = copy.deepcopy(site())
    raw["fields"][0]["tanks"][0]["pmo"] = "PMO-OIL"
    with pytest.raises(SiteFileError, match="level telemetry is for storage tanks"):
        load(tmp_path, raw)
