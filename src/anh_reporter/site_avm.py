"""A well's AVM code in the site file: the ANH's code of the well, one of a kind in its field.

The ANH compares AVM codes without case (``AVM-0001`` and ``avm-0001`` are one code), so two
wells of a field may not have codes that differ only in case; the file keeps the spelling it
gives, and that spelling is what the reports carry. A well without ``avm_code`` is known to the
ANH by its own ``code``, which counts among the field's AVM codes.
"""

from __future__ import annotations

from collections.abc import Sequence

TOTAL_LABEL = "TOTAL CAMPO"
"""The "Pozo" of the Forma 9SH's field total row (``allocation.forma9sh``)."""
UNALLOCATED_LABEL = "SIN ASIGNAR"
"""The "Pozo" of the Forma 9SH's row of production no well was allocated. Neither is ever a
well's code (:func:`reserved_well_code_problem`), and both rows have an empty "Código AVM" (a
well's row always has one)."""


def avm_key(code: str) -> str:
    """An AVM code as the ANH compares it: without case."""
    return code.casefold()


def duplicate_avm_code_problem(wells: Sequence[tuple[str, str | None]]) -> str | None:
    """The first two wells (``(code, avm_code)`` pairs, in order) sharing an AVM code, as one
    line; None when every well's code is its own."""
    seen: dict[str, tuple[str, str]] = {}
    for well, avm in wells:
        code = avm or well
        first = seen.setdefault(avm_key(code), (well, code))
        if first[0] != well:
            return (
                f"duplicate well AVM code {code!r}: wells {first[0]!r} ({first[1]!r}) and "
                f"{well!r} ({code!r}) have the same one (AVM codes are compared without case)"
            )
    return None


def reserved_well_code_problem(codes: Sequence[str]) -> str | None:
    """A well code the Forma 9SH names a non-well row with (``SIN ASIGNAR``, ``TOTAL CAMPO``,
    compared without case): it would read as that row."""
    reserved = {c.casefold(): c for c in (UNALLOCATED_LABEL, TOTAL_LABEL)}
    for code in codes:
        if code.strip().casefold() in reserved:
            return (
                f"well code {code!r} is reserved: the Forma 9SH names its "
                f"{reserved[code.strip().casefold()]!r} row so; give the well another code"
            )
    return None
