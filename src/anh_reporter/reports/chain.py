"""One hash chain over every signed version of every report, and its audit.

When a version is signed it gets the next sequence number ``chain_seq`` and::

    chain_hash = sha256(prev_hash + "\\n" + header)

where ``prev_hash`` is the ``chain_hash`` of the version signed just before it (64 zeros for the
first) and ``header`` is the canonical JSON of the version's identity: sequence number, field,
contract day, version number, the version it amends, reason, SHA-256 of the canonical report,
signature, key id, who made it and when it was signed. Appending takes a transaction-scoped
advisory lock, so concurrent signers queue up and the sequence has no holes.

Each signing is also written to the append-only ``audit_log`` with its ``chain_hash``, which
anchors the head: dropping the *last* version would otherwise leave a valid shorter chain.

:func:`audit` recomputes everything: content hash, signature (with the stored public key, whose
SHA-256 must be the key id), header hash, links and sequence; and checks that every anchored
``chain_hash`` is still in the chain. An altered, removed or reordered version is reported with
its sequence number. :func:`verify_stored` checks one stored version and its chain entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from anh_reporter.reports.canonical import canonical_bytes
from anh_reporter.reports.records import SignedVersion, envelope_of
from anh_reporter.reports.verify import Check, envelope_checks, verify_bytes
from anh_reporter.storage import audit_log

GENESIS = "0" * 64
_LOCK_KEY = 0x414E4843  # "ANHC": one chain per database

Conn = psycopg.Connection[Any]


def header_bytes(
    *,
    seq: int,
    field_code: str,
    contract_day: dt.date,
    version: int,
    amends_version: int | None,
    reason: str | None,
    sha256: str,
    signature: str,
    key_id: str,
    created_by: str,
    signed_at: dt.datetime,
) -> bytes:
    """The canonical header of a version: what its chain hash covers."""
    return canonical_bytes(
        {
            "seq": seq,
            "field": field_code,
            "contract_day": contract_day.isoformat(),
            "version": version,
            "amends_version": amends_version,
            "reason": reason,
            "sha256": sha256,
            "signature": signature,
            "key_id": key_id,
            "created_by": created_by,
            "signed_at": signed_at.astimezone(dt.UTC).isoformat(),
        }
    )


def link(prev_hash: str, header: bytes) -> str:
    """``sha256(prev_hash + "\\n" + header)`` in hex."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + header).hexdigest()


@dataclass(frozen=True)
class ChainEntry:
    """Where a version landed in the chain."""

    seq: int
    prev_hash: str
    chain_hash: str


def append(
    conn: Conn,
    *,
    version_id: int,
    field_code: str,
    contract_day: dt.date,
    version: int,
    amends_version: int | None,
    reason: str | None,
    sha256: str,
    signature: str,
    key_id: str,
    created_by: str,
    signed_at: dt.datetime,
) -> ChainEntry:
    """Link a signed version at the head of the chain (call inside the signing transaction)."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
    head = conn.execute(
        "SELECT chain_seq, chain_hash FROM report_versions WHERE chain_seq IS NOT NULL "
        "ORDER BY chain_seq DESC LIMIT 1"
    ).fetchone()
    seq, prev = (1, GENESIS) if head is None else (int(head[0]) + 1, str(head[1]))
    header = header_bytes(
        seq=seq,
        field_code=field_code,
        contract_day=contract_day,
        version=version,
        amends_version=amends_version,
        reason=reason,
        sha256=sha256,
        signature=signature,
        key_id=key_id,
        created_by=created_by,
        signed_at=signed_at,
    )
    chain_hash = link(prev, header)
    conn.execute(
        "UPDATE report_versions SET chain_seq = %s, prev_hash = %s, chain_hash = %s WHERE id = %s",
        (seq, prev, chain_hash, version_id),
    )
    audit_log.record(
        conn,
        actor=created_by,
        action="report.sign",
        target=f"{field_code}/{contract_day.isoformat()}/v{version}",
        details={"chain_seq": seq, "chain_hash": chain_hash, "sha256": sha256},
        field_code=field_code,
    )
    return ChainEntry(seq, prev, chain_hash)


@dataclass(frozen=True)
class ChainHead:
    """The newest link of the chain: publish it outside the system to anchor everything before.

    Anyone holding an exported head can later prove that no version signed up to it was
    removed or altered, even by someone who controls the database and the audit log.
    """

    seq: int
    chain_hash: str
    field: str | None
    contract_day: dt.date | None
    version: int | None
    signed_at: dt.datetime | None
    exported_at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        """The head as JSON-ready values (the export file and the API's answer)."""
        return {
            "algorithm": "sha256(prev_hash + '\\n' + canonical header)",
            "seq": self.seq,
            "chain_hash": self.chain_hash,
            "field": self.field,
            "contract_day": self.contract_day.isoformat() if self.contract_day else None,
            "version": self.version,
            "signed_at": self.signed_at.astimezone(dt.UTC).isoformat() if self.signed_at else None,
            "exported_at": self.exported_at.astimezone(dt.UTC).isoformat(),
        }


def head(conn: Conn, now: dt.datetime | None = None) -> ChainHead:
    """The chain's newest link (sequence 0 and the genesis hash when nothing is signed yet)."""
    row = conn.execute(
        "SELECT v.chain_seq, v.chain_hash, f.code, r.contract_day, v.version, v.signed_at "
        "FROM report_versions v JOIN reports r ON r.id = v.report_id "
        "JOIN fields f ON f.id = r.field_id WHERE v.chain_seq IS NOT NULL "
        "ORDER BY v.chain_seq DESC LIMIT 1"
    ).fetchone()
    when = now or dt.datetime.now(dt.UTC)
    if row is None:
        return ChainHead(0, GENESIS, None, None, None, None, when)
    return ChainHead(int(row[0]), str(row[1]), row[2], row[3], row[4], row[5], when)


@dataclass
class AuditResult:
    """What the audit checked and what it found wrong."""

    versions: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was found wrong."""
        return not self.problems


_AUDIT_SQL = """
SELECT v.chain_seq, v.prev_hash, v.chain_hash, f.code, r.contract_day, v.version,
       a.version, v.reason, v.sha256, v.signature, v.key_id, v.created_by, v.signed_at,
       v.canonical, k.public_key
FROM report_versions v
JOIN reports r ON r.id = v.report_id
JOIN fields f ON f.id = r.field_id
LEFT JOIN report_versions a ON a.id = v.amends_version_id
LEFT JOIN signing_keys k ON k.key_id = v.key_id
WHERE v.chain_seq IS NOT NULL
ORDER BY v.chain_seq
"""


def audit(conn: Conn) -> AuditResult:
    """Check the whole chain; see the module docstring for what is checked."""
    result = AuditResult()
    expected_seq, prev = 1, GENESIS
    seen: set[str] = set()
    with conn.cursor() as cur:
        cur.execute(_AUDIT_SQL)
        for row in cur:
            (seq, prev_hash, chain_hash, field_code, day, version, amends, reason, sha, sig,
             key_id, created_by, signed_at, canonical, public_key) = row  # fmt: skip
            where = f"chain #{seq} ({field_code} {day} v{version})"
            result.versions += 1
            if seq != expected_seq:
                result.problems.append(
                    f"{where}: expected sequence #{expected_seq}: "
                    f"{seq - expected_seq} version(s) removed before it"
                )
            if prev_hash != prev:
                result.problems.append(
                    f"{where}: prev_hash {prev_hash[:12]}… does not match the previous "
                    f"version's chain hash {prev[:12]}…"
                )
            content = bytes(canonical) if canonical is not None else b""
            if public_key is None:
                result.problems.append(
                    f"{where}: signing key {key_id[:12]}… is not in signing_keys"
                )
            else:
                envelope = envelope_of(
                    key_id=key_id, public_key=public_key, sha256=sha, signature=sig,
                    signed_at=signed_at,
                )  # fmt: skip
                result.problems += [
                    f"{where}: {c.name}: {c.detail}"
                    for c in envelope_checks(content, envelope, None)
                    if not c.ok
                ]
            header = header_bytes(
                seq=seq,
                field_code=field_code,
                contract_day=day,
                version=version,
                amends_version=amends,
                reason=reason,
                sha256=sha,
                signature=sig,
                key_id=key_id,
                created_by=created_by,
                signed_at=signed_at,
            )
            if link(prev_hash, header) != chain_hash:
                result.problems.append(f"{where}: record was altered (chain hash mismatch)")
            seen.add(chain_hash)
            expected_seq, prev = seq + 1, chain_hash
    anchors = conn.execute(
        "SELECT details->>'chain_seq', details->>'chain_hash' FROM audit_log "
        "WHERE action = 'report.sign' ORDER BY id"
    ).fetchall()
    for seq_text, anchored in anchors:
        if anchored not in seen:
            result.problems.append(
                f"chain #{seq_text}: signed version recorded in the audit log is missing "
                "from the chain (removed or altered)"
            )
    return result


def verify_stored(conn: Conn, signed: SignedVersion, profile_dirs: tuple[Path, ...]) -> list[Check]:
    """Every check of a stored signed version: its bytes and signature, then its chain entry."""
    checks = verify_bytes(signed.data, signed.envelope, profile_dirs=profile_dirs)
    return checks + _entry_checks(conn, signed)


def _entry_checks(conn: Conn, s: SignedVersion) -> list[Check]:
    header = header_bytes(
        seq=s.chain_seq,
        field_code=s.report.field_code,
        contract_day=s.report.contract_day,
        version=s.version,
        amends_version=s.amends_version,
        reason=s.reason,
        sha256=s.envelope.sha256,
        signature=s.envelope.signature,
        key_id=s.envelope.key_id,
        created_by=s.created_by,
        signed_at=s.signed_at,
    )
    record_ok = link(s.prev_hash, header) == s.chain_hash
    before = conn.execute(
        "SELECT chain_hash FROM report_versions WHERE chain_seq = %s", (s.chain_seq - 1,)
    ).fetchone()
    expected_prev = GENESIS if s.chain_seq == 1 else (before[0] if before else None)
    anchored = conn.execute(
        "SELECT 1 FROM audit_log WHERE action = 'report.sign' AND details->>'chain_hash' = %s "
        "LIMIT 1",
        (s.chain_hash,),
    ).fetchone()
    where = f"chain #{s.chain_seq}"
    linked = s.prev_hash == expected_prev
    missing = "missing" if expected_prev is None else expected_prev[:12] + "…"
    return [
        Check(
            "chain record",
            record_ok,
            f"{where}: record matches its chain hash {s.chain_hash[:16]}…"
            if record_ok
            else f"{where}: record was altered (chain hash mismatch)",
        ),
        Check(
            "chain link",
            linked,
            f"{where}: linked to the version signed before it"
            if linked
            else f"{where}: prev_hash {s.prev_hash[:12]}… does not match the version before it "
            f"({missing})",
        ),
        Check(
            "audit anchor",
            anchored is not None,
            f"{where}: signing recorded in the audit log"
            if anchored
            else f"{where}: no audit log entry anchors this chain hash",
        ),
    ]
