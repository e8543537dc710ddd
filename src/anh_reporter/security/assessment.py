"""IEC 62443-3-3 self-assessment: facts in, checks mapped to system requirements, SL per FR out.

Pure: :func:`assess` takes :class:`Facts` (gathered by :mod:`anh_reporter.security.facts` from
the live settings and database) and a target security level, and returns every check with the
system requirement (SR) it evidences, the lowest security level that needs it, and what to
change when it fails.

Scoring, per foundational requirement (FR1–FR7): the achieved level is the highest level ``L``
(0–4) such that every check of that FR needed at ``L`` or below passes. A check needed at SL 3
that fails therefore caps the FR at 2. A failed check needed at or below the target is a *gap*;
one needed above the target is reported as *advisory*. The levels follow IEC 62443-3-3's
requirement enhancements (e.g. SR 1.1 RE2, multifactor authentication for untrusted networks,
is an SL 3 requirement); this is a self-assessment of what the software can see, not a
certification: physical, organisational and network controls are out of its sight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

FRS: dict[str, str] = {
    "FR1": "Identification and authentication control",
    "FR2": "Use control",
    "FR3": "System integrity",
    "FR4": "Data confidentiality",
    "FR5": "Restricted data flow",
    "FR6": "Timely response to events",
    "FR7": "Resource availability",
}


@dataclass(frozen=True)
class OpcUaEndpoint:
    """One OPC UA connection's security as configured."""

    name: str
    endpoint: str
    mode: str
    """None, Sign or SignAndEncrypt."""
    trusts_explicitly: bool
    """A trust directory is set (otherwise any server certificate is accepted)."""


@dataclass(frozen=True)
class Facts:
    """What the assessment looks at; every field is read from settings or the database."""

    production: bool = False
    api_tls: bool = False
    api_public_bind: bool = False
    jwt_secret_configured: bool = False
    jwt_secret_sealed: bool = False
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 14 * 86_400
    auth_rate_per_minute: int = 60
    rate_per_minute: int = 1200
    cors_any_origin: bool = False
    kek_configured: bool = False
    signing_key_sealed: bool | None = None
    plain_totp_secrets: int = 0
    plain_delivery_secrets: int = 0
    users_by_role: dict[str, int] = field(default_factory=dict)
    mfa_by_role: dict[str, int] = field(default_factory=dict)
    never_logged_in: int = 0
    default_accounts: int = 0
    api_keys_without_expiry: int = 0
    api_keys_broad: int = 0
    audit_chain_ok: bool | None = None
    audit_chain_versions: int = 0
    db_role_separated: bool = False
    db_role: str = ""
    backups_configured: bool = False
    alerts_configured: bool = False
    opcua: tuple[OpcUaEndpoint, ...] = ()


@dataclass(frozen=True)
class Check:
    """One check: the SR it evidences, the level that needs it, whether it holds."""

    id: str
    fr: str
    sr: str
    level: int
    title: str
    passed: bool
    detail: str
    fix: str


@dataclass(frozen=True)
class FrResult:
    """A foundational requirement's achieved level against the target."""

    fr: str
    name: str
    achieved: int
    target: int

    @property
    def meets(self) -> bool:
        """True when the achieved level reaches the target."""
        return self.achieved >= self.target


@dataclass(frozen=True)
class Assessment:
    """Every check, the level per FR, and the gaps."""

    target: int
    checks: list[Check]
    frs: list[FrResult]

    @property
    def gaps(self) -> list[Check]:
        """Failed checks needed at or below the target."""
        return [c for c in self.checks if not c.passed and c.level <= self.target]

    @property
    def advisory(self) -> list[Check]:
        """Failed checks needed only above the target."""
        return [c for c in self.checks if not c.passed and c.level > self.target]

    @property
    def meets_target(self) -> bool:
        """True when every FR reaches the target."""
        return all(f.meets for f in self.frs)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "standard": "IEC 62443-3-3",
            "target_sl": self.target,
            "meets_target": self.meets_target,
            "frs": [{**asdict(f), "meets": f.meets} for f in self.frs],
            "checks": [asdict(c) for c in self.checks],
            "gaps": [c.id for c in self.gaps],
            "advisory": [c.id for c in self.advisory],
        }


def achieved_level(checks: list[Check]) -> int:
    """The highest level L with every check needed at L or below passing (0 to 4)."""
    level = 0
    for candidate in range(1, 5):
        if all(c.passed for c in checks if c.level <= candidate):
            level = candidate
        else:
            break
    return level


_Rule = tuple[str, str, str, int, str, Callable[[Facts], tuple[bool, str]], str]


def _mfa(roles: tuple[str, ...]) -> Callable[[Facts], tuple[bool, str]]:
    def rule(f: Facts) -> tuple[bool, str]:
        lacking = {
            r: f.users_by_role.get(r, 0) - f.mfa_by_role.get(r, 0)
            for r in roles
            if f.users_by_role.get(r, 0) - f.mfa_by_role.get(r, 0) > 0
        }
        if not lacking:
            return True, f"every active {'/'.join(roles)} account has TOTP"
        return False, "without TOTP: " + ", ".join(f"{n} {r}" for r, n in sorted(lacking.items()))

    return rule


def _opcua(mode: str) -> Callable[[Facts], tuple[bool, str]]:
    good = {"Sign": ("Sign", "SignAndEncrypt"), "SignAndEncrypt": ("SignAndEncrypt",)}[mode]

    def rule(f: Facts) -> tuple[bool, str]:
        if not f.opcua:
            return True, "no OPC UA connection given to assess"
        weak = [e.name for e in f.opcua if e.mode not in good]
        if weak:
            return False, f"security mode below {mode}: {', '.join(weak)}"
        return True, f"{len(f.opcua)} connection(s) at {mode} or better"

    return rule


def _opcua_trust(f: Facts) -> tuple[bool, str]:
    loose = [e.name for e in f.opcua if e.mode != "None" and not e.trusts_explicitly]
    if loose:
        return False, f"any server certificate accepted (no trust_dir): {', '.join(loose)}"
    return True, "server certificates checked against a trust list (or no secured connection)"


def _secrets(f: Facts) -> tuple[bool, str]:
    plain = []
    if not f.kek_configured:
        plain.append("no key-encryption key")
    if f.signing_key_sealed is False:
        plain.append("signing key file in clear")
    if f.plain_totp_secrets:
        plain.append(f"{f.plain_totp_secrets} TOTP secret(s) in clear")
    if f.jwt_secret_configured and not f.jwt_secret_sealed:
        plain.append("JWT secret not sealed")
    if f.plain_delivery_secrets:
        plain.append(f"{f.plain_delivery_secrets} credential setting(s) not sealed")
    return (not plain, "; ".join(plain) or "secrets sealed under the KEK")


RULES: list[_Rule] = [
    # FR1 Identification and authentication control
    ("mfa-admin", "FR1", "SR 1.1 RE2", 2, "Administrators use a second factor",
     _mfa(("admin",)),
     "each admin: POST /api/v1/auth/totp/setup then /enable (docs/security.md)"),
    ("mfa-privileged", "FR1", "SR 1.1 RE2", 3, "Signers and administrators use a second factor",
     _mfa(("admin", "engineer")), "enable TOTP for every engineer and admin"),
    ("mfa-all", "FR1", "SR 1.1 RE3", 4, "Every person uses a second factor",
     _mfa(("admin", "engineer", "operator", "viewer", "auditor")),
     "enable TOTP for every user"),
    ("unused-accounts", "FR1", "SR 1.3", 1, "No default or never-used accounts",
     lambda f: (f.never_logged_in == 0 and f.default_accounts == 0,
                f"{f.never_logged_in} never signed in, {f.default_accounts} default-named"),
     "disable accounts that were never used and rename or remove admin@/demo accounts"),
    ("jwt-secret", "FR1", "SR 1.5", 1, "Token signing key is configured, not generated",
     lambda f: (f.jwt_secret_configured, "ANH_API__JWT_SECRET set" if f.jwt_secret_configured
                else "a development key generated on disk"),
     "set ANH_API__JWT_SECRET to >= 32 random characters (sealed: `security seal`)"),
    ("api-key-expiry", "FR1", "SR 1.5", 2, "API keys expire",
     lambda f: (f.api_keys_without_expiry == 0,
                f"{f.api_keys_without_expiry} active key(s) without expiry"),
     "re-issue machine keys with expires_at, revoke the old ones"),
    ("login-limit", "FR1", "SR 1.11", 1, "Unsuccessful logins are limited",
     lambda f: (f.auth_rate_per_minute <= 60, f"{f.auth_rate_per_minute} auth calls/min/client"),
     "ANH_API__AUTH_RATE_PER_MINUTE <= 60"),
    ("opcua-trust", "FR1", "SR 1.2", 2, "OPC UA servers are authenticated by certificate",
     _opcua_trust, "set security.trust_dir and `anh-reporter opcua certs trust` each server"),
    # FR2 Use control
    ("api-key-scopes", "FR2", "SR 2.1", 1, "API keys hold narrow scopes",
     lambda f: (f.api_keys_broad == 0, f"{f.api_keys_broad} active key(s) with every scope "
                "or every field"),
     "give machine keys only the scopes and fields they use"),
    ("session-lifetime", "FR2", "SR 2.6", 2, "Sessions end: short access, bounded refresh",
     lambda f: (f.access_token_ttl_s <= 900 and f.refresh_token_ttl_s <= 14 * 86_400,
                f"access {f.access_token_ttl_s}s, refresh {f.refresh_token_ttl_s // 86_400}d"),
     "ANH_API__ACCESS_TOKEN_TTL_S <= 900, ANH_API__REFRESH_TOKEN_TTL_S <= 1209600"),
    ("audit-events", "FR2", "SR 2.8", 1, "Auditable events are recorded",
     lambda f: (True, "state-changing API calls and signings go to audit_log"), ""),
    # FR3 System integrity
    ("report-chain", "FR3", "SR 3.4", 1, "Signed report chain is intact",
     lambda f: (f.audit_chain_ok is not False,
                "not checked" if f.audit_chain_ok is None
                else f"{f.audit_chain_versions} version(s), "
                + ("intact" if f.audit_chain_ok else "ALTERED")),
     "run `anh-reporter report audit`, investigate, restore from the exported chain head"),
    ("db-roles", "FR3", "SR 3.9", 2, "Audit logs cannot be erased by the application",
     lambda f: (f.db_role_separated, f"connected as {f.db_role or '?'}: "
                + ("owns nothing, logs insert-only" if f.db_role_separated
                   else "may TRUNCATE/ALTER the logs")),
     "`anh-reporter db roles --app-role anh_app` as the owner; ANH_DATABASE_URL as anh_app"),
    ("opcua-sign", "FR3", "SR 3.1", 1, "OPC UA messages are signed",
     _opcua("Sign"), "security: {policy: Basic256Sha256, mode: Sign} or SignAndEncrypt"),
    # FR4 Data confidentiality
    ("api-tls", "FR4", "SR 4.1", 1, "The API is served over TLS",
     lambda f: (f.api_tls, "TLS on" if f.api_tls else "plain HTTP"),
     "`serve --certfile --keyfile`, or ANH_TLS__BEHIND_TLS_PROXY=true behind a TLS proxy"),
    ("secrets-at-rest", "FR4", "SR 4.1 RE1", 2, "Secrets are encrypted at rest", _secrets,
     "set ANH_SECRETS__KEK_FILE, then `anh-reporter security rotate-kek`; seal settings with "
     "`security seal`"),
    ("opcua-encrypt", "FR4", "SR 4.1 RE1", 3, "OPC UA traffic is encrypted",
     _opcua("SignAndEncrypt"), "security: {policy: Basic256Sha256, mode: SignAndEncrypt}"),
    # FR5 Restricted data flow
    ("bind", "FR5", "SR 5.2", 1, "The API is not exposed in clear",
     lambda f: (not f.api_public_bind or f.api_tls,
                "listens beyond localhost without TLS" if f.api_public_bind and not f.api_tls
                else "localhost, or TLS"),
     "bind to 127.0.0.1 behind the proxy (ANH_API__HOST), or serve TLS"),
    ("cors", "FR5", "SR 5.2", 1, "Cross-origin access is restricted",
     lambda f: (not f.cors_any_origin, "CORS allows any origin" if f.cors_any_origin
                else "CORS off or listed origins"),
     "list the UI's origin in ANH_API__CORS_ORIGINS, never '*'"),
    # FR6 Timely response to events
    ("audit-access", "FR6", "SR 6.1", 1, "Auditors can read the audit log and the chain head",
     lambda f: (True, "GET /api/v1/audit, /api/v1/security/chain-head"), ""),
    ("alerts", "FR6", "SR 6.2", 2, "Events are monitored and alerted",
     lambda f: (f.alerts_configured, "alert channel configured" if f.alerts_configured
                else "no alert channel"),
     "set ANH_ALERTS__WEBHOOK_URL or ANH_ALERTS__SMTP_HOST"),
    # FR7 Resource availability
    ("rate-limits", "FR7", "SR 7.1", 1, "Requests are rate limited",
     lambda f: (f.rate_per_minute <= 6000, f"{f.rate_per_minute}/min/client"),
     "ANH_API__RATE_PER_MINUTE <= 6000"),
    ("backups", "FR7", "SR 7.3", 1, "The database is backed up",
     lambda f: (f.backups_configured, "declared" if f.backups_configured else "not declared"),
     "set up and test backups (docs/operations.md), then ANH_SECURITY__BACKUPS_CONFIGURED=true"),
    ("production-mode", "FR7", "SR 7.6", 1, "Production settings are enforced",
     lambda f: (f.production, "ANH_ENVIRONMENT=production" if f.production
                else "development mode (generated keys, embedded database allowed)"),
     "ANH_ENVIRONMENT=production"),
]  # fmt: skip


def assess(facts: Facts, target: int) -> Assessment:
    """Run every rule on ``facts``; the level per FR against ``target`` (1 to 4)."""
    checks = []
    for cid, fr, sr, level, title, rule, fix in RULES:
        passed, detail = rule(facts)
        checks.append(Check(cid, fr, sr, level, title, passed, detail, fix))
    frs = [
        FrResult(fr, name, achieved_level([c for c in checks if c.fr == fr]), target)
        for fr, name in FRS.items()
    ]
    return Assessment(target, checks, frs)


def markdown(a: Assessment) -> str:
    """The assessment as a Markdown document."""
    lines = [
        "# IEC 62443-3-3 self-assessment",
        "",
        f"Target security level SL-T {a.target}: "
        + ("**met**" if a.meets_target else "**not met**"),
        "",
        "| FR | | achieved | target |",
        "|---|---|---|---|",
        *(
            f"| {f.fr} | {f.name} | SL {f.achieved} | SL {f.target} {'✓' if f.meets else '✗'} |"
            for f in a.frs
        ),
        "",
        "| check | SR | SL | result | detail | what to change |",
        "|---|---|---|---|---|---|",
        *(
            f"| {c.title} | {c.sr} | {c.level} | {'pass' if c.passed else 'FAIL'} | "
            f"{c.detail} | {'' if c.passed else c.fix} |"
            for c in a.checks
        ),
        "",
    ]
    return "\n".join(lines)
