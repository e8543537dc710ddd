"""The site file: the example is valid; a bad file gets one line naming file, path and value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from anh_reporter.site import SiteFileError, load_site

from .conftest import EXAMPLE_SITE, ROOT

MINIMAL = """
operator: {name: Op, nit: "900123456-7"}
fields:
  - code: F1
    name: Field one
    contract: C1
    municipality_dane: "50568"
    pmos:
      - code: P1
        name: LACT
        kind: oil
        series:
          - {variable: oil_rate, unit: bbl/d, range: [0, 1000], sampling_period_s: 10,
             commissioned: 2024-01-01}
          - {variable: bsw, unit: "%", range: RANGE, sampling_period_s: 60,
             commissioned: 2024-01-01}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(text)
    return path


def test_example_site_is_realistic() -> None:
    site = load_site(EXAMPLE_SITE)
    field = site.fields[0]
    assert len(field.pmos) >= 3
    assert len(field.wells) >= 6
    assert {p.kind for p in field.pmos} == {"oil", "gas", "water"}
    assert field.timezone == "America/Bogota"
    assert field.report_type in ("A", "B")
    codes = [code for code, _ in site.series_codes()]
    assert len(codes) == len(set(codes))
    assert "CAMPO-DEMO-LLANOS.PMO-LACT-01.oil_total" in codes


def test_minimal_site_defaults(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, MINIMAL.replace("RANGE", "[0, 100]")))
    field = site.fields[0]
    assert field.contract_day_start_hour == 6
    assert field.pmos[0].meter.meter_factor == 1.0
    assert field.pmos[0].base_conditions.pressure_psia == 14.696


def test_reversed_range_names_path_and_value(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("RANGE", "[100, 0]"))
    with pytest.raises(SiteFileError) as err:
        load_site(path)
    message = str(err.value)
    assert str(path) in message
    assert "fields[0].pmos[0].series[1].range" in message
    assert "range lo must be below hi, got [100.0, 0.0]" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        (
            ("oil_rate", "oil_flow"),
            "fields[0].pmos[0].series[0].variable: unknown variable 'oil_flow'",
        ),
        (("bbl/d", "m3/d"), "unit 'm3/d' does not fit variable 'oil_rate'"),
        (('"50568"', '"5056"'), "fields[0].municipality_dane: String should match pattern"),
        (
            ("kind: oil", "kind: diesel"),
            "fields[0].pmos[0].kind: Input should be 'oil', 'gas' or 'water'",
        ),
        (
            ("sampling_period_s: 10", "sampling_period_s: 0"),
            "sampling_period_s: Input should be greater than 0",
        ),
        (
            ("code: P1", "code: P1\n        colour: red"),
            "fields[0].pmos[0].colour: Extra inputs are not permitted",
        ),
        (('nit: "900123456-7"', 'nit: "12"'), "operator.nit: String should match pattern"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, replace: tuple[str, str], expected: str) -> None:
    text = MINIMAL.replace("RANGE", "[0, 100]").replace(*replace)
    with pytest.raises(SiteFileError, match=None) as err:
        load_site(write(tmp_path, text))
    assert expected in str(err.value)


def test_a_bad_field_is_the_only_problem_named(tmp_path: Path) -> None:
    """Not also "fields: Tuple should have at least 1 item after validation, not 0"."""
    text = MINIMAL.replace("RANGE", "[0, 100]").replace('"50568"', '"5056"')
    with pytest.raises(SiteFileError) as err:
        load_site(write(tmp_path, text))
    message = str(err.value)
    assert "fields[0].municipality_dane: String should match pattern" in message
    assert "more problem" not in message and "at least 1 item" not in message
    with pytest.raises(SiteFileError, match="fields: Tuple should have at least 1 item"):
        load_site(write(tmp_path, 'operator: {nit: "900123456-7", name: X}\nfields: []\n'))


def test_bad_timezone_and_duplicate_codes(tmp_path: Path) -> None:
    text = MINIMAL.replace("RANGE", "[0, 100]").replace(
        'municipality_dane: "50568"', 'municipality_dane: "50568"\n    timezone: Mars/Olympus'
    )
    with pytest.raises(SiteFileError, match="unknown IANA timezone 'Mars/Olympus'"):
        load_site(write(tmp_path, text))
    dup = MINIMAL.replace("RANGE", "[0, 100]").replace(
        'variable: bsw, unit: "%"', "variable: oil_rate, unit: bbl/d"
    )
    with pytest.raises(SiteFileError, match=r"duplicate series code 'F1\.P1\.oil_rate'"):
        load_site(write(tmp_path, dup))


def test_yaml_syntax_error_gives_line(tmp_path: Path) -> None:
    path = write(tmp_path, "operator: {name: Op\nfields: [")
    with pytest.raises(SiteFileError, match=r"not valid YAML at line \d+, column \d+"):
        load_site(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SiteFileError, match="cannot read the site file"):
        load_site(tmp_path / "nope.yaml")


def test_cli_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("RANGE", "[5, 5]"))
    proc = subprocess.run(
        [sys.executable, "-m", "anh_reporter", "site", "check", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "fields[0].pmos[0].series[1].range" in lines[0]


def test_cli_check_valid_file() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "anh_reporter", "site", "check", str(EXAMPLE_SITE)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "7 PMO(s), 6 well(s)" in proc.stdout


EXTRA_SERIES = """
          - {variable: SERIES_LINE}
"""


@pytest.mark.parametrize(
    ("series", "message"),
    [
        (
            "api_gravity, unit: degAPI, range: [5, 60], sampling_period_s: 60, "
            "commissioned: 2024-01-01",
            "basis: say whether this api_gravity series is observed",
        ),
        (
            "oil_total, unit: bbl, range: [0, 4294967295], sampling_period_s: 10, "
            "commissioned: 2024-01-01, rollover: 4294967295",
            r"rollover 4294967295 is the counter's modulus .* write rollover: 4294967296",
        ),
        (
            "oil_rate, unit: bbl/d, range: [0, 10], sampling_period_s: 10, "
            "commissioned: 2024-01-01, rollover: 100, code: X",
            "rollover applies to totalizer series",
        ),
        (
            "bsw, unit: '%', range: [0, 100], sampling_period_s: 60, "
            "commissioned: 2024-01-01, basis: base, code: Y",
            "basis applies to api_gravity series",
        ),
    ],
)
def test_measurement_attributes_are_checked(tmp_path: Path, series: str, message: str) -> None:
    text = MINIMAL.replace("RANGE", "[0, 100]") + EXTRA_SERIES.replace("SERIES_LINE", series)
    with pytest.raises(SiteFileError, match=message):
        load_site(write(tmp_path, text))


def test_a_counter_wrapping_at_its_modulus_and_an_observed_api_load(tmp_path: Path) -> None:
    text = MINIMAL.replace("RANGE", "[0, 100]") + EXTRA_SERIES.replace(
        "SERIES_LINE",
        "oil_total, unit: bbl, range: [0, 4294967295], sampling_period_s: 10, "
        "commissioned: 2024-01-01, rollover: 4294967296, resolution: 1",
    )
    site = load_site(write(tmp_path, text))
    total = site.fields[0].pmos[0].series[-1]
    assert (total.rollover, total.resolution) == (2**32, 1)


def test_a_custody_fallback_must_be_a_series_of_the_pmo(tmp_path: Path) -> None:
    text = MINIMAL.replace("RANGE", "[0, 100]").replace(
        "        kind: oil\n",
        "        kind: oil\n        custody: {fallback_temperature: separator_temperature}\n",
    )
    with pytest.raises(SiteFileError, match=r"custody\.fallback_temperature: 'separator_temp"):
        load_site(write(tmp_path, text))


def test_a_field_chooses_its_report_profile(tmp_path: Path) -> None:
    base = MINIMAL.replace("RANGE", "[0, 100]")
    assert load_site(write(tmp_path, base)).fields[0].report_profile is None
    chosen = base.replace(
        'municipality_dane: "50568"', 'municipality_dane: "50568"\n    report_profile: anh-es-1.0'
    )
    assert load_site(write(tmp_path, chosen)).fields[0].report_profile == "anh-es-1.0"
    with pytest.raises(SiteFileError, match="report_profile"):
        load_site(write(tmp_path, chosen.replace("anh-es-1.0", "../etc/passwd")))


def test_a_wells_avm_code_is_one_of_a_kind_within_its_field() -> None:
    """``avm_code`` (the ANH's code of the well) defaults to the well's code; two wells of a
    field cannot share one, given or defaulted, and it has no blanks at its ends."""
    from anh_reporter.site import FieldSite

    def field(*wells: dict[str, str]) -> dict[str, object]:
        return {"code": "F1", "name": "F", "contract": "C", "municipality_dane": "50568",
                "pmos": [], "wells": list(wells)}  # fmt: skip

    ok = FieldSite.model_validate(
        field({"code": "W-1", "name": "1", "avm_code": "CDL-0001"}, {"code": "W-2", "name": "2"})
    )
    assert [w.avm_code for w in ok.wells] == ["CDL-0001", None]
    with pytest.raises(ValueError, match="duplicate well AVM code 'W-2'"):
        FieldSite.model_validate(
            field({"code": "W-1", "name": "1", "avm_code": "W-2"}, {"code": "W-2", "name": "2"})
        )
    with pytest.raises(ValueError, match="avm_code"):
        FieldSite.model_validate(field({"code": "W-1", "name": "1", "avm_code": " CDL-1"}))
    # The Forma 9SH's own rows: no well may be named like them, in any case.
    for reserved in ("SIN ASIGNAR", "total campo"):
        with pytest.raises(ValueError, match=reserved):
            FieldSite.model_validate(field({"code": reserved, "name": "1"}))


def test_a_sections_own_check_is_not_followed_by_the_whole_section() -> None:
    """`site check` names the problem, not the field's whole dict cut at 80 characters."""
    from pydantic import ValidationError

    from anh_reporter.site import FieldSite, describe_validation_error

    wells = [{"code": "W-1", "name": "1"}, {"code": "W-1", "name": "2"}]
    raw = {"code": "F1", "name": "F", "contract": "C", "municipality_dane": "50568", "pmos": [],
           "wells": wells}  # fmt: skip
    with pytest.raises(ValidationError) as err:
        FieldSite.model_validate(raw)
    assert describe_validation_error(Path("site.yaml"), err.value) == (
        "site.yaml: (top): duplicate well code 'W-1'"
    )
