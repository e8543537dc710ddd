"""Permissions and the roles that group them (RBAC).

A route asks for one permission (``require(Permission.REPORTS_SIGN)``); a user holds the
permissions of its role; an API key holds the scopes it was given, never more than the
permissions of the role of the admin who made it.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    """One thing a principal may do."""

    SITE_READ = "site.read"
    TELEMETRY_READ = "telemetry.read"
    TELEMETRY_WRITE = "telemetry.write"
    ANALYTICS_READ = "analytics.read"
    PRODUCTION_READ = "production.read"
    PRODUCTION_WRITE = "production.write"
    """Enter values by hand: a volume for a gap, a lab result."""
    PRODUCTION_APPROVE = "production.approve"
    """Confirm a meter reset, approve an estimate, record a meter proving."""
    ANOMALIES_READ = "anomalies.read"
    ANOMALIES_ACK = "anomalies.ack"
    REPORTS_READ = "reports.read"
    REPORTS_GENERATE = "reports.generate"
    REPORTS_SIGN = "reports.sign"
    REPORTS_SUBMIT = "reports.submit"
    REPORTS_AMEND = "reports.amend"
    USERS_MANAGE = "users.manage"
    AUDIT_READ = "audit.read"
    CONFIG_READ = "config.read"


class Role(StrEnum):
    """The roles a user can have (one per user)."""

    ADMIN = "admin"
    ENGINEER = "engineer"
    OPERATOR = "operator"
    VIEWER = "viewer"
    AUDITOR = "auditor"


P = Permission
_READ = frozenset(
    {
        P.SITE_READ,
        P.TELEMETRY_READ,
        P.ANALYTICS_READ,
        P.PRODUCTION_READ,
        P.ANOMALIES_READ,
        P.REPORTS_READ,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    # Production engineer / measurement technician: owns the daily report end to end.
    Role.ENGINEER: _READ
    | {
        P.TELEMETRY_WRITE,
        P.PRODUCTION_WRITE,
        P.PRODUCTION_APPROVE,
        P.ANOMALIES_ACK,
        P.REPORTS_GENERATE,
        P.REPORTS_SIGN,
        P.REPORTS_SUBMIT,
        P.REPORTS_AMEND,
        P.CONFIG_READ,
    },
    # Field operator: watches live data, enters manual readings, acknowledges alarms.
    Role.OPERATOR: _READ | {P.TELEMETRY_WRITE, P.PRODUCTION_WRITE, P.ANOMALIES_ACK},
    Role.VIEWER: _READ,
    # Auditor: sees what was reported, by whom and from which data; changes nothing.
    Role.AUDITOR: _READ | {P.AUDIT_READ, P.CONFIG_READ},
}

API_KEY_SCOPES: frozenset[Permission] = frozenset(
    {P.TELEMETRY_WRITE, P.TELEMETRY_READ, P.SITE_READ, P.ANALYTICS_READ, P.PRODUCTION_READ}
)
"""What a machine may be given: reading and writing data, never managing people or reports."""


def permissions_of(role: str) -> frozenset[Permission]:
    """The permissions of a role name; an unknown role has none."""
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()
