"""AnalogItemType variables for OPC UA: the node, its EURange, and its engineering units.

OPC UA Part 8 names units by their UNECE common code, carried in ``EUInformation`` as
``UnitId`` (the code's characters packed into an integer, one byte each) with the namespace
``http://www.opcfoundation.org/UA/units/un/cefact``. A unit UNECE has no code for (choke beans
in 64ths of an inch, strokes per minute, a status flag) gets ``UnitId`` -1 and its display name.
"""

from __future__ import annotations

from asyncua import ua
from asyncua.ua.object_ids import ObjectIds

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


def _string_node(name: str, ns: int) -> ua.NodeId:
    return ua.NodeId(ua.String(name), ua.Int16(ns))


def _add_item(
    nodeid: ua.NodeId,
    parent: ua.NodeId,
    name: ua.QualifiedName,
    reference: int,
    type_definition: int,
    value: ua.Variant,
    datatype: int,
) -> ua.AddNodesItem:
    attrs = ua.VariableAttributes(
        DisplayName=ua.LocalizedText(name.Name),
        Description=ua.LocalizedText(name.Name),
        Value=value,
        DataType=ua.NodeId(ua.Int32(datatype)),
        ValueRank=ua.ValueRank.Scalar,
        AccessLevel=ua.AccessLevel.CurrentRead.mask,
        UserAccessLevel=ua.AccessLevel.CurrentRead.mask,
    )
    return ua.AddNodesItem(
        ParentNodeId=parent,
        ReferenceTypeId=ua.NodeId(ua.Int32(reference)),
        RequestedNewNodeId=nodeid,
        BrowseName=name,
        NodeClass=ua.NodeClass.Variable,
        NodeAttributes=attrs,
        TypeDefinition=ua.NodeId(ua.Int32(type_definition)),
    )


def analog_item(
    string_id: str,
    ns: int,
    parent: ua.NodeId,
    name: ua.QualifiedName,
    eu_range: tuple[float, float],
    unit: str,
) -> list[ua.AddNodesItem]:
    """AddNodes items of an AnalogItemType variable (Double) with EURange and EngineeringUnits.

    The node id is ``ns=<ns>;s=<string_id>``; its properties' ids are that string with
    ``.EURange`` and ``.EngineeringUnits`` appended.
    """
    node = _string_node(string_id, ns)
    return [
        _add_item(
            node,
            parent,
            name,
            ObjectIds.HasComponent,
            ObjectIds.AnalogItemType,
            ua.Variant(0.0, ua.VariantType.Double),
            ObjectIds.Double,
        ),
        _add_item(
            _string_node(f"{string_id}.EURange", ns),
            node,
            ua.QualifiedName("EURange", 0),
            ObjectIds.HasProperty,
            ObjectIds.PropertyType,
            ua.Variant(ua.Range(*eu_range)),
            ObjectIds.Range,
        ),
        _add_item(
            _string_node(f"{string_id}.EngineeringUnits", ns),
            node,
            ua.QualifiedName("EngineeringUnits", 0),
            ObjectIds.HasProperty,
            ObjectIds.PropertyType,
            ua.Variant(eu_information(unit)),
            ObjectIds.EUInformation,
        ),
    ]
