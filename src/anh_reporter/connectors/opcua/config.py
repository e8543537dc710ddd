"""The OPC UA connector's configuration: endpoint, security, acquisition mode and tag map (YAML).

``load_config(path)`` returns a validated :class:`OpcUaConfig` or raises
:class:`~anh_reporter.errors.ConfigError` with the file, the path inside it, the value and what
was expected. Relative certificate and trust paths are taken from the file's directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from asyncua import ua
from asyncua.ua.uaerrors import UaStringParsingError
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from anh_reporter.connectors.runtime import LinkSettings
from anh_reporter.connectors.tagmap import TagBase
from anh_reporter.errors import ConfigError
from anh_reporter.site import load_yaml_model

SecurityPolicy = Literal["None", "Basic256Sha256"]
SecurityMode = Literal["None", "Sign", "SignAndEncrypt"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OpcUaTag(TagBase):
    """One OPC UA variable feeding one series."""

    node_id: str = Field(
        min_length=3,
        description="'ns=<index>;s=<name>' (also i=, g=, b=), or 'nsu=<namespace URI>;s=<name>'",
    )

    @field_validator("node_id")
    @classmethod
    def _parsable(cls, value: str) -> str:
        try:
            ua.NodeId.from_string(value)
        except (ValueError, UaStringParsingError):
            raise ValueError(
                "not an OPC UA node id; expected e.g. 'ns=2;s=FIELD/PMO/oil_rate' or "
                "'nsu=urn:example;s=FIELD/PMO/oil_rate'"
            ) from None
        return value


class OpcUaSecurity(_Model):
    """Message security, this client's certificate, and which server certificates to trust."""

    policy: SecurityPolicy = "None"
    mode: SecurityMode = "None"
    certificate: Path | None = Field(
        None, description="Client certificate (DER or PEM); made on first use when missing"
    )
    private_key: Path | None = Field(None, description="Client private key (PEM)")
    application_uri: str = Field(
        "urn:anh-reporter:opcua-connector",
        min_length=1,
        description="This client's application URI (must match the certificate's URI SAN)",
    )
    trust_dir: Path | None = Field(
        None,
        description="Trusted server certificates; refused ones go to its sibling 'rejected'. "
        "Unset: any server certificate is accepted (a warning is logged)",
    )
    username: str | None = Field(
        None, min_length=1, max_length=200, description="User name (default: anonymous)"
    )
    password: SecretStr | None = Field(None, description="The user's password")
    password_file: Path | None = Field(
        None, description="A file holding the user's password (e.g. a systemd credential)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> OpcUaSecurity:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give 'password' or 'password_file', not both")
        secret = self.password is not None or self.password_file is not None
        if secret != (self.username is not None):
            raise ValueError(
                "a user identity needs both 'username' and 'password' (or 'password_file')"
            )
        if (self.policy == "None") != (self.mode == "None"):
            raise ValueError(
                f"security policy {self.policy!r} and mode {self.mode!r} do not fit: use "
                "policy None with mode None, or Basic256Sha256 with Sign or SignAndEncrypt"
            )
        if self.policy != "None" and (self.certificate is None or self.private_key is None):
            raise ValueError(
                f"security policy {self.policy} needs 'certificate' and 'private_key' paths "
                "(both are created on first use when the files do not exist)"
            )
        return self

    def resolved(self, base: Path) -> OpcUaSecurity:
        """The same settings with relative paths taken from ``base``."""

        def fix(p: Path | None) -> Path | None:
            return p if p is None or p.is_absolute() else base / p

        return self.model_copy(
            update={
                "certificate": fix(self.certificate),
                "private_key": fix(self.private_key),
                "trust_dir": fix(self.trust_dir),
                "password_file": fix(self.password_file),
            }
        )

    def user_password(self) -> str | None:
        """The user's password (read from ``password_file`` when given there)."""
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file is None:
            return None
        try:
            return self.password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(f"OPC UA password_file {self.password_file}: {why}") from None


class OpcUaConfig(LinkSettings, _Model):
    """One connection to one OPC UA server and the tags read through it.

    Reconnect and outbox keys: :class:`~anh_reporter.connectors.runtime.LinkSettings`.
    """

    name: str = Field(min_length=1, max_length=80)
    endpoint: str = Field(pattern=r"^opc\.tcp://", description="opc.tcp://host:port/path")
    security: OpcUaSecurity = Field(default_factory=OpcUaSecurity)
    acquisition: Literal["subscription", "polling"] = "subscription"
    publishing_interval_ms: float = Field(1000.0, ge=10, le=3_600_000)
    max_items_per_subscription: int | None = Field(
        None,
        ge=1,
        description="Split the tags over several subscriptions of at most this many items "
        "(default: one subscription)",
    )
    trigger: Literal["status_value", "status_value_timestamp"] = Field(
        "status_value_timestamp",
        description="Report on a new source timestamp too (every sample), or on a change only",
    )
    percent_deadband: Literal["server", "absolute"] = Field(
        "server",
        description="Send a percent deadband as is, or as an absolute one computed from the "
        "node's EURange (for servers that ignore percent deadbands, e.g. asyncua's)",
    )
    flush_interval_ms: float = Field(500.0, ge=10, le=60_000)
    flush_max_readings: int = Field(10_000, ge=1, le=10_000_000)
    max_nodes_per_read: int | None = Field(
        None, ge=1, description="Override the server's MaxNodesPerRead operation limit"
    )
    request_timeout_s: float = Field(5.0, gt=0, le=600)
    watchdog_interval_s: float = Field(
        5.0, gt=0, le=60, description="Keep-alive probe period (and its timeout)"
    )
    tags: tuple[OpcUaTag, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> OpcUaConfig:
        for attr in ("series", "node_id"):
            seen: set[str] = set()
            for i, tag in enumerate(self.tags):
                value = getattr(tag, attr)
                if value in seen:
                    raise ValueError(f"tags[{i}].{attr} {value!r} appears twice")
                seen.add(value)
        return self


def load_config(path: Path) -> OpcUaConfig:
    """Read and validate a connector file; raise :class:`ConfigError` with one readable line."""
    config = load_yaml_model(
        path, OpcUaConfig, what="OPC UA connector file", top="'name', 'endpoint' and 'tags'"
    )
    return config.model_copy(update={"security": config.security.resolved(path.parent)})
