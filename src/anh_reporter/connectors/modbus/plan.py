"""Read planning: a device's tags as few contiguous reads of at most 125 registers.

Tags of the same unit id and register type are sorted by address and merged greedily into one
read while the hole before the next tag is at most ``max_gap`` registers and the read stays
within ``max_registers``; otherwise a new read starts. For tags sorted by start address this
greedy cut gives the fewest reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from anh_reporter.connectors.modbus.config import (
    MAX_REGISTERS_PER_READ,
    ModbusTag,
    RegisterType,
)


@dataclass(frozen=True)
class ReadBlock:
    """One read request and the tags it serves (``tags`` index the device's tag list)."""

    unit_id: int
    register_type: RegisterType
    address: int
    count: int
    tags: tuple[int, ...]

    @property
    def end(self) -> int:
        """One past the last register read."""
        return self.address + self.count


def plan_reads(
    tags: Sequence[ModbusTag],
    *,
    unit_id: int,
    max_gap: int,
    max_registers: int = MAX_REGISTERS_PER_READ,
) -> list[ReadBlock]:
    """The reads that cover ``tags``; a tag without its own unit id uses ``unit_id``."""
    if not 1 <= max_registers <= MAX_REGISTERS_PER_READ:
        raise ValueError(
            f"max_registers {max_registers} is outside 1..{MAX_REGISTERS_PER_READ} "
            "(the Modbus limit per read)"
        )
    if max_gap < 0:
        raise ValueError(f"max_gap {max_gap} must be 0 or more")
    groups: dict[tuple[int, RegisterType], list[int]] = {}
    for i, tag in enumerate(tags):
        unit = unit_id if tag.unit_id is None else tag.unit_id
        groups.setdefault((unit, tag.register_type), []).append(i)
    blocks: list[ReadBlock] = []
    for (unit, register_type), members in sorted(groups.items()):
        members.sort(key=lambda i: (tags[i].address, tags[i].width))
        start = end = -1
        current: list[int] = []
        for i in members:
            tag_start, tag_end = tags[i].address, tags[i].address + tags[i].width
            if (
                current
                and tag_start - end <= max_gap
                and max(end, tag_end) - start <= max_registers
            ):
                current.append(i)
                end = max(end, tag_end)
                continue
            if current:
                blocks.append(ReadBlock(unit, register_type, start, end - start, tuple(current)))
            current, start, end = [i], tag_start, tag_end
        if current:
            blocks.append(ReadBlock(unit, register_type, start, end - start, tuple(current)))
    return blocks
