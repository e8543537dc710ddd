"""The simulated field served over OPC UA (asyncua), with faults that can be injected at run time.

Address space: ``Objects/<field code>/<PMO or well code>/<variable>``, each a Double variable
of type ``AnalogItemType`` with ``EURange`` and ``EngineeringUnits`` (UNECE codes,
:mod:`~anh_reporter.simulator.opcua_analog`) properties and the string node id
``ns=<idx>;s=<FIELD>/<OWNER>/<variable>`` (when an owner has two series of one variable, the
second is named by its series code). Values come from :func:`~anh_reporter.simulator.signals.
generate` on each series' sampling-period grid (aligned to the epoch), written with the grid
instant as SourceTimestamp and a StatusCode, so a value read live equals the demo's backfilled
value at that instant for the same seed and series key.

Faults (:mod:`~anh_reporter.simulator.faults`): stuck, spike, drift, flatline and meter factor
alter the value; ``bad_status`` sends Bad_Timeout (asyncua then serves a null value);
``comm_loss`` on a series makes the server report ``Bad_NoCommunication`` for it once (as a
gateway does when it loses a device) and then stop updating it until the window ends.
:meth:`OpcUaSimulator.outage` takes the whole server down (the port stops answering) and brings
it back on the same port. Faults are injected through the Python API (:meth:`inject`,
:meth:`clear`, :meth:`outage`) or the OPC UA methods under ``Objects/Simulator``
(``InjectFault``, ``ClearFaults``, ``Outage``); each one is written to the fault log.

Security: with ``pki_dir`` set, endpoints None, Basic256Sha256 Sign and SignAndEncrypt are
offered with a server certificate made on first use (``pki_dir/own``); a client certificate
must be in ``pki_dir/trusted`` (refused ones are saved to ``pki_dir/rejected``). The trusted
directory is re-read on each new session, so trusting a client needs no restart.

The server also enforces its advertised ``MaxNodesPerRead``: a bigger read gets
``Bad_TooManyOperations``, as strict servers do.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from hmac import compare_digest
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
from asyncua import ua
from asyncua.common.callback import CallbackType, ServerItemCallback
from asyncua.common.utils import ServiceError
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.server import Server
from asyncua.server.user_managers import UserManager
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.status_codes import StatusCodes

from anh_reporter.connectors.opcua.config import OpcUaConfig, OpcUaTag
from anh_reporter.connectors.opcua.security import (
    CERTIFICATE_FILE,
    PRIVATE_KEY_FILE,
    TrustDirectory,
    ensure_certificate,
)
from anh_reporter.domain.timeutil import from_us, to_us
from anh_reporter.errors import ConfigError
from anh_reporter.simulator.faults import Fault, FaultKind, FaultLog, apply_faults
from anh_reporter.simulator.opcua_analog import analog_item
from anh_reporter.simulator.signals import SignalSpec, generate
from anh_reporter.simulator.specs import site_signal_specs
from anh_reporter.site import Site, series_code

log = logging.getLogger(__name__)

NAMESPACE_URI = "urn:anh-reporter:simulator"
APPLICATION_URI = "urn:anh-reporter:simulator:opcua"
ENDPOINT_PATH = "/anh/simulator"
Policy = Literal["None", "Basic256Sha256_Sign", "Basic256Sha256_SignAndEncrypt"]
ALL_POLICIES: tuple[Policy, ...] = ("None", "Basic256Sha256_Sign", "Basic256Sha256_SignAndEncrypt")
WRITE_SLICE = 500  # values written per turn of the event loop in one tick
VALUE_BLOCK = 64  # generator values computed at once per series (see _generated)
_POLICY_TYPES = {
    "None": ua.SecurityPolicyType.NoSecurity,
    "Basic256Sha256_Sign": ua.SecurityPolicyType.Basic256Sha256_Sign,
    "Basic256Sha256_SignAndEncrypt": ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
}


@dataclass(frozen=True)
class ServedSeries:
    """One series as the simulator serves it."""

    code: str
    key: int
    name: str  # "<FIELD>/<OWNER>/<variable>": the string part of the node id
    spec: SignalSpec
    period_s: float
    unit: str


def served_series(
    site: Site, keys: Mapping[str, int] | None = None, period_s: float | None = None
) -> list[ServedSeries]:
    """What the simulator serves for a site: names, generator specs, periods (pure)."""
    specs = site_signal_specs(site, keys)
    out: list[ServedSeries] = []
    for field in site.fields:
        owners = [(p.code, p.series) for p in field.pmos] + [
            (w.code, w.series) for w in field.wells
        ]
        for owner, series in owners:
            used: set[str] = set()
            for s in series:
                code = series_code(field.code, owner, s)
                leaf = s.variable if s.variable not in used else code
                used.add(leaf)
                spec = specs[code]
                out.append(
                    ServedSeries(
                        code,
                        spec.key,
                        f"{field.code}/{owner}/{leaf}",
                        spec,
                        period_s or s.sampling_period_s,
                        s.unit,
                    )
                )
    return out


def _node(name: str, namespace: int) -> ua.NodeId:
    """A string node id (asyncua annotates its fields with its own int and str subclasses)."""
    return ua.NodeId(ua.String(name), ua.Int16(namespace))


def _ua_time(when: dt.datetime) -> ua.DateTime:
    # asyncua annotates timestamps as its DateTime subclass but encodes any aware datetime.
    return cast(ua.DateTime, when)


class OpcUaSimulator:
    """An asyncua server serving a site's live signals, with a control surface for faults."""

    def __init__(
        self,
        site: Site,
        *,
        keys: Mapping[str, int] | None = None,
        seed: int = 42,
        host: str = "127.0.0.1",
        port: int = 4840,
        period_s: float | None = None,
        pki_dir: Path | None = None,
        policies: Sequence[Policy] | None = None,
        max_nodes_per_read: int = 1000,
        faults: Sequence[Fault] = (),
        fault_log: FaultLog | None = None,
        record: bool = False,
        users: Mapping[str, str] | None = None,
    ) -> None:
        self.series = served_series(site, keys, period_s)
        self.users = dict(users) if users else None
        """User name -> password: only these users may open a session (no anonymous one)."""
        self.seed = seed
        self.host = host
        self.port = port
        self.pki_dir = pki_dir
        self.policies: tuple[Policy, ...] = tuple(
            policies if policies is not None else (ALL_POLICIES if pki_dir else ("None",))
        )
        if pki_dir is None and any(p != "None" for p in self.policies):
            raise ConfigError(
                f"OPC UA simulator: policies {list(self.policies)} need a pki_dir for the "
                "server certificate and the trusted client certificates"
            )
        self.max_nodes_per_read = max_nodes_per_read
        self.fault_log = fault_log
        self.served: dict[str, list[int]] | None = (
            {x.code: [] for x in self.series} if record else None
        )
        """With ``record``: the instants written for each series (a late tick skips one)."""
        self.namespace_index = 2
        self._faults: list[Fault] = []
        self._by_code = {s.code: s for s in self.series}
        self._silent: set[int] = set()
        self._blocks: dict[int, tuple[int, np.ndarray[Any, np.dtype[np.float64]]]] = {}
        self._server: Server | None = None
        self._nodes: list[ua.NodeId] = []
        self._updater: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        for fault in faults:
            self.inject(fault)

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The URL clients connect to (the actual port once started on port 0)."""
        return f"opc.tcp://{self.host}:{self.port}{ENDPOINT_PATH}"

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None

    def node_id(self, code: str) -> str:
        """The node id string of a series."""
        return f"ns={self.namespace_index};s={self._by_code[code].name}"

    async def start(self) -> None:
        """Build the address space, listen, and start updating values."""
        if self._server is not None:
            return
        server = Server(user_manager=_Users(self.users) if self.users else None)
        await server.init()
        if self.users:
            server.set_identity_tokens([ua.UserNameIdentityToken])
        server.set_endpoint(f"opc.tcp://{self.host}:{self.port}{ENDPOINT_PATH}")
        server.set_server_name("ANH Smart Reporter field simulator")
        await server.set_application_uri(APPLICATION_URI)
        server.set_security_policy([_POLICY_TYPES[p] for p in self.policies])
        if self.pki_dir is not None:
            own = self.pki_dir / "own"
            cert, key = own / CERTIFICATE_FILE, own / PRIVATE_KEY_FILE
            await ensure_certificate(cert, key, APPLICATION_URI, "server")
            await server.load_certificate(cert)
            await server.load_private_key(key)
            server.set_certificate_validator(
                TrustDirectory(self.pki_dir / "trusted", self.pki_dir / "rejected", peer="client")
            )
        self.namespace_index = await server.register_namespace(NAMESPACE_URI)
        await self._build_address_space(server)
        await server.start()
        if server.bserver is not None:
            self.port = server.bserver.port  # the actual port when 0 was asked for
        self._server = server
        self._silent.clear()  # a fresh address space: announce lost devices again
        now = to_us(dt.datetime.now(dt.UTC))
        await self._write(
            [(i, now - now % round(s.period_s * 1_000_000)) for i, s in enumerate(self.series)]
        )
        self._updater = asyncio.create_task(self._update_loop(), name="opcua-sim-update")
        log.info("OPC UA simulator serving %d series at %s", len(self.series), self.endpoint)

    async def stop(self) -> None:
        """Stop updating and listening (clients see the connection drop)."""
        if self._updater is not None:
            self._updater.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._updater
            self._updater = None
        if self._server is not None:
            server, self._server = self._server, None
            await server.stop()

    async def close(self) -> None:
        """Stop, including a pending outage's restart."""
        for task in list(self._background):
            task.cancel()
        await self.stop()

    async def __aenter__(self) -> OpcUaSimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def outage(self, seconds: float) -> None:
        """Take the whole server down for ``seconds`` (logged as comm_loss on every series)."""
        start = to_us(dt.datetime.now(dt.UTC))
        end = start + round(seconds * 1_000_000)
        if self.fault_log is not None:
            for s in self.series:
                self.fault_log.record(
                    Fault(FaultKind.COMM_LOSS, s.key, start, end, note="server outage")
                )
        await self.stop()
        await asyncio.sleep(seconds)
        await self.start()

    # -- control surface -----------------------------------------------------------------

    @property
    def faults(self) -> list[Fault]:
        """The faults currently known (expired ones included until cleared)."""
        return list(self._faults)

    def inject(self, fault: Fault) -> None:
        """Add a fault (and log it)."""
        if not any(s.key == fault.series_key for s in self.series):
            raise ConfigError(
                f"fault {fault.kind.value} names series key {fault.series_key}, which the "
                f"simulator does not serve"
            )
        self._faults.append(fault)
        if self.fault_log is not None:
            self.fault_log.record(fault)
        log.info("fault injected: %s on series key %d", fault.kind.value, fault.series_key)

    def inject_now(
        self, kind: FaultKind | str, code: str, seconds: float, magnitude: float = 0.0
    ) -> Fault:
        """Inject a fault on a series (by code) from now for ``seconds``."""
        if code not in self._by_code:
            raise ConfigError(f"the simulator serves no series {code!r}")
        start = to_us(dt.datetime.now(dt.UTC))
        fault = Fault(
            FaultKind(kind), self._by_code[code].key, start, start + round(seconds * 1e6), magnitude
        )
        self.inject(fault)
        return fault

    def clear(self, series_key: int | None = None) -> int:
        """Forget the faults of one series (or all); returns how many were removed."""
        before = len(self._faults)
        self._faults = [
            f for f in self._faults if series_key is not None and f.series_key != series_key
        ]
        return before - len(self._faults)

    def subscription_sizes(self) -> list[int]:
        """Monitored items of each live subscription, smallest first (for tests and benches)."""
        if self._server is None:
            return []
        subs = self._server.iserver.subscription_service.subscriptions.values()
        return sorted(len(s.monitored_item_srv._monitored_items) for s in subs)

    def key_of(self, code: str) -> int:
        """The generator key of a series."""
        return self._by_code[code].key

    def connector_config(self, name: str = "opcua-simulator", **overrides: Any) -> OpcUaConfig:
        """An OPC UA connector configuration for everything this simulator serves."""
        tags = [
            OpcUaTag(series=s.code, node_id=self.node_id(s.code), sampling_period_s=s.period_s)
            for s in self.series
        ]
        fields: dict[str, Any] = {"name": name, "endpoint": self.endpoint, "tags": tags}
        fields["percent_deadband"] = "absolute"  # asyncua's server ignores percent deadbands
        fields.update(overrides)
        return OpcUaConfig.model_validate(fields)

    def expected(
        self, code: str, times_us: np.ndarray[Any, np.dtype[np.int64]]
    ) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.uint32]]]:
        """The values and status codes served for a series at these instants (NaN: null)."""
        s = self._by_code[code]
        out_v = np.empty(len(times_us))
        out_q = np.empty(len(times_us), dtype=np.uint32)
        for i, t in enumerate(times_us):
            v, q, _ = self._value_at(s, int(t))
            out_v[i], out_q[i] = v, q
        return out_v, out_q

    # -- the address space ---------------------------------------------------------------

    async def _build_address_space(self, server: Server) -> None:
        idx = self.namespace_index
        folders: dict[str, Any] = {}
        self._nodes = []
        items: list[ua.AddNodesItem] = []
        for s in self.series:
            field_code, owner, leaf = s.name.split("/", 2)
            parent = server.nodes.objects
            path = ""
            for part in (field_code, owner):
                path = f"{path}/{part}" if path else part
                if path not in folders:
                    folders[path] = await parent.add_folder(
                        _node(path, idx), ua.QualifiedName(part, idx)
                    )
                parent = folders[path]
            items += analog_item(
                s.name,
                idx,
                parent.nodeid,
                ua.QualifiedName(leaf, idx),
                (s.spec.range_lo, s.spec.range_hi),
                s.unit,
            )
            self._nodes.append(_node(s.name, idx))
        for lo in range(0, len(items), 3000):  # one AddNodes call per batch, not per node
            for result in await server.nodes.objects.session.add_nodes(items[lo : lo + 3000]):
                result.StatusCode.check()
        await self._add_control_methods(server)
        limit = server.get_node(ObjectIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead)
        await limit.write_value(ua.Variant(self.max_nodes_per_read, ua.VariantType.UInt32))
        server.subscribe_server_callback(CallbackType.PreRead, self._enforce_read_limit)

    def _enforce_read_limit(self, event: ServerItemCallback, _dispatcher: Any) -> None:
        if event.is_external and len(event.request_params.NodesToRead) > self.max_nodes_per_read:
            raise ServiceError(StatusCodes.BadTooManyOperations)

    async def _add_control_methods(self, server: Server) -> None:
        idx = self.namespace_index
        folder = await server.nodes.objects.add_object(
            _node("Simulator", idx), ua.QualifiedName("Simulator", idx)
        )
        await folder.add_method(
            _node("Simulator/InjectFault", idx),
            ua.QualifiedName("InjectFault", idx),
            self._method_inject,
            [
                ua.VariantType.String,
                ua.VariantType.String,
                ua.VariantType.Double,
                ua.VariantType.Double,
            ],
            [ua.VariantType.String],
        )
        await folder.add_method(
            _node("Simulator/ClearFaults", idx),
            ua.QualifiedName("ClearFaults", idx),
            self._method_clear,
            [ua.VariantType.String],
            [ua.VariantType.UInt32],
        )
        await folder.add_method(
            _node("Simulator/Outage", idx),
            ua.QualifiedName("Outage", idx),
            self._method_outage,
            [ua.VariantType.Double],
            [],
        )

    async def _method_inject(
        self,
        _parent: ua.NodeId,
        kind: ua.Variant,
        code: ua.Variant,
        seconds: ua.Variant,
        magnitude: ua.Variant,
    ) -> list[ua.Variant]:
        """InjectFault(kind, series code, duration s, magnitude) -> description."""
        try:
            fault = self.inject_now(
                str(kind.Value), str(code.Value), float(seconds.Value), float(magnitude.Value)
            )
        except (ValueError, ConfigError, KeyError) as exc:
            log.warning("InjectFault refused: %s", exc)
            raise ServiceError(StatusCodes.BadInvalidArgument) from None
        text = f"{fault.kind.value} on {code.Value} until {from_us(fault.end_us).isoformat()}"
        return [ua.Variant(text, ua.VariantType.String)]

    async def _method_clear(self, _parent: ua.NodeId, code: ua.Variant) -> list[ua.Variant]:
        """ClearFaults(series code, or '' for all) -> number removed."""
        name = str(code.Value or "")
        if name and name not in self._by_code:
            raise ServiceError(StatusCodes.BadInvalidArgument)
        removed = self.clear(self._by_code[name].key if name else None)
        return [ua.Variant(removed, ua.VariantType.UInt32)]

    async def _method_outage(self, _parent: ua.NodeId, seconds: ua.Variant) -> list[ua.Variant]:
        """Outage(seconds): answer, then go down and come back (in the background)."""
        duration = float(seconds.Value)
        if not 0 < duration <= 3600:
            raise ServiceError(StatusCodes.BadOutOfRange)

        async def later() -> None:
            await asyncio.sleep(0.2)  # let the method's answer reach the caller first
            await self.outage(duration)

        task = asyncio.create_task(later())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return []

    # -- values --------------------------------------------------------------------------

    def _value_at(self, s: ServedSeries, t_us: int) -> tuple[float, int, bool]:
        """(value, status code, silent) served for a series at one grid instant."""
        mine = [f for f in self._faults if f.series_key == s.key]
        if not mine:
            return self._generated(s, t_us), 0, False
        times = np.array([t_us], dtype=np.int64)
        values = generate(s.spec, times, self.seed)
        quality = np.zeros(1, dtype=np.uint32)
        stuck = None
        for f in mine:
            if f.kind is FaultKind.STUCK and f.active(times)[0]:
                step = round(s.period_s * 1_000_000)
                first = np.array([-(-f.start_us // step) * step], dtype=np.int64)
                stuck = float(generate(s.spec, first, self.seed)[0])
        values, quality, silent = apply_faults(
            mine, s.key, times, values, quality, stuck_value=stuck
        )
        status = int(quality[0])
        # A Bad status carries no value (OPC UA Part 4, 7.7.1); asyncua serves null.
        value = math.nan if status & 0x80000000 else float(values[0])
        return value, status, bool(silent[0])

    def _generated(self, s: ServedSeries, t_us: int) -> float:
        """The generator's value at a grid instant, computed for a block of instants at once.

        ``generate`` is a pure function of the instant, so a block computed ahead serves the
        same values as one call per instant, at a fraction of the cost (numpy's per-call
        overhead dominates for one value).
        """
        step = round(s.period_s * 1_000_000)
        block = self._blocks.get(s.key)
        if block is not None:
            i, rest = divmod(t_us - block[0], step)
            if rest == 0 and 0 <= i < len(block[1]):
                return float(block[1][i])
        times = t_us + step * np.arange(VALUE_BLOCK, dtype=np.int64)
        values = generate(s.spec, times, self.seed)
        self._blocks[s.key] = (t_us, values)
        return float(values[0])

    async def _write(self, due: list[tuple[int, int]]) -> None:
        """Write (series index, grid instant) pairs to the address space."""
        server = self._server
        if server is None:
            return
        now = dt.datetime.now(dt.UTC)
        for n, (i, t_us) in enumerate(due):
            if n % WRITE_SLICE == WRITE_SLICE - 1:
                await asyncio.sleep(0)  # let reads and publish responses through between slices
            s = self.series[i]
            value, status, silent = self._value_at(s, t_us)
            if silent:
                if s.key in self._silent:
                    continue  # the device is gone: nothing new to say
                self._silent.add(s.key)
            else:
                self._silent.discard(s.key)
            variant = (
                ua.Variant(None, ua.VariantType.Null)
                if math.isnan(value)
                else ua.Variant(value, ua.VariantType.Double)
            )
            await server.write_attribute_value(
                self._nodes[i],
                ua.DataValue(
                    variant,
                    StatusCode=ua.StatusCode(ua.UInt32(status)),
                    SourceTimestamp=_ua_time(from_us(t_us)),
                    ServerTimestamp=_ua_time(now),
                ),
            )
            if self.served is not None:
                self.served[s.code].append(t_us)

    async def _update_loop(self) -> None:
        """Write each series at each instant of its sampling grid, as the clock reaches it."""
        steps = np.array([round(s.period_s * 1_000_000) for s in self.series], dtype=np.int64)
        now = to_us(dt.datetime.now(dt.UTC))
        due = now - now % steps + steps
        while True:
            wait = int(due.min()) - to_us(dt.datetime.now(dt.UTC))
            if wait > 0:
                await asyncio.sleep(wait / 1_000_000)
            now = to_us(dt.datetime.now(dt.UTC))
            ready = np.flatnonzero(due <= now)
            # A late wake-up serves the latest instant, not a burst of missed ones (a device
            # reports its present value).
            latest = now - now % steps[ready]
            await self._write([(int(i), int(t)) for i, t in zip(ready, latest, strict=True)])
            due[ready] = latest + steps[ready]


class _Users(UserManager):
    """asyncua's user manager for a fixed table of user names and passwords."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = dict(users)

    def get_user(
        self, iserver: Any, username: str | None = None, password: str | None = None,
        certificate: Any = None,
    ) -> User | None:  # fmt: skip
        expected = self._users.get(username or "")
        if expected is None or password is None:
            return None
        return (
            User(role=UserRole.User, name=username) if compare_digest(expected, password) else None
        )
