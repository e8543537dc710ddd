"""OPC UA engineering units of the project's unit strings: UNECE Recommendation 20 codes.

OPC UA Part 8 names units by their UNECE common code, carried in ``EUInformation`` as
``UnitId`` (the code's characters packed into an integer, one byte each) with the namespace
``http://www.opcfoundation.org/UA/units/un/cefact``. A unit UNECE has no code for (choke beans
in 64ths of an inch, strokes per minute, a status flag) gets ``UnitId`` -1 and its display name.
"""

from __future__ import annotations

from asyncua import ua

UNECE_NAMESPACE = "http://www.opcfoundation.org/UA/units/un/cefact"

UNECE_CODES: dict[str, str] = {
    "%": "P1",  # percent
    "A": "AMP",  # ampere
    "Hz": "HTZ",  # hertz
    "V": "VLT",  # volt
    "bbl": "BLL",  # barrel (US)
    "bbl/d": "B1",  # barrel (US) per day
    "cm": "CMT",  # centimetre
    "degAPI": "J13",  # degree API
    "degF": "FAH",  # degree Fahrenheit
    "ft": "FOT",  # foot
    "in": "INH",  # inch
    "kW": "KWT",  # kilowatt
    "kscf": "FC",  # thousand cubic foot
    "kscf/d": "F1",  # thousand cubic foot per day
    "m": "MTR",  # metre
    "psia": "80",  # pound per square inch absolute
    "psig": "PS",  # pound-force per square inch (gauge readings)
    "rpm": "RPM",  # revolutions per minute
}


def unit_id(code: str) -> int:
    """The ``UnitId`` of a UNECE common code: its ASCII bytes, big-endian (OPC UA Part 8)."""
    out = 0
    for char in code:
        out = (out << 8) | ord(char)
    return out


def eu_information(unit: str) -> ua.EUInformation:
    """The ``EngineeringUnits`` value of a series unit (UnitId -1 where UNECE has no code)."""
    code = UNECE_CODES.get(unit)
    return ua.EUInformation(
        NamespaceUri=UNECE_NAMESPACE,
        UnitId=ua.Int32(unit_id(code) if code else -1),
        DisplayName=ua.LocalizedText(unit),
        Description=ua.LocalizedText(unit if code is None else f"{unit} (UNECE {code})"),
    )
