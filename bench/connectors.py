"""Connector figures of the connectors issue in one run: OPC UA and Modbus TCP.

Runs ``bench/connectors_opcua.py`` (10,000 OPC UA monitored items at 1 Hz from simulator
processes: notifications/s as a ratio of the offered rate and CPU as % of one core, for a bare
asyncua subscription client measured in the same run and for the connector, into a counting
sink and into PostgreSQL) and
``bench/connectors_modbus.py`` (reads/s of 100 registers as a ratio of a raw pymodbus loop),
each in its own process, then prints both in one table; the last line is one JSON object.

    python bench/connectors.py
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).parent))

from _common import report

HERE = Path(__file__).parent


def last_json(script: str) -> dict[str, object]:
    """Run a bench script and return its last line's JSON figures."""
    proc = subprocess.run(
        [sys.executable, str(HERE / script)], capture_output=True, text=True, check=True
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return dict(orjson.loads(lines[-1]))


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    opcua = last_json("connectors_opcua.py")
    modbus = last_json("connectors_modbus.py")
    rows = [(f"opcua.{k}", str(v), "") for k, v in opcua.items() if k != "bench"]
    rows += [(f"modbus.{k}", str(v), "") for k, v in modbus.items() if k != "bench"]
    report(
        "Connectors: OPC UA (10,000 items at 1 Hz) and Modbus TCP",
        ("figure", "value", ""),
        rows,
        {"bench": "connectors", "opcua": opcua, "modbus": modbus},
    )


if __name__ == "__main__":
    main()
