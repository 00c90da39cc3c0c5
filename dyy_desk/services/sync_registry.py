"""Which tables travel in bundles, and the rules an import checks for each of them.

One `TableSpec` per syncing table. Another area (library, SOP checklists, escalations, QA) joins sync
by calling `register(TableSpec(...))` from its own module listed in `SPEC_MODULES` — or, until it
is listed, from anywhere imported before the first export/import. Everything else (export scopes,
validation, merge, apply) is generic. Field lists come from the table's columns, so a new nullable
column travels automatically; bump `SCHEMA_VERSION` whenever a spec or column changes meaning.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Boolean, ColumnElement, Integer, String, Table, select

from dyy_desk.core.masking import mask_address, mask_phone
from dyy_desk.core.sync.records import JsonValue, RecordKind
from dyy_desk.core.types import EventKind, Platform, Priority, Role, TicketCategory, TicketStatus
from dyy_desk.db.repos.tables import clients, customers, shops, ticket_events, tickets, users
from dyy_desk.db.types import UTCDateTime

# Data version written to, and accepted from, bundles (manifest "schema"). Bundles with a larger
# number come from a newer program and are refused; smaller ones are read with missing fields
# taking the column default.
SCHEMA_VERSION = 1

SYNC_COLUMNS = frozenset({"id", "origin", "version", "deleted"})


class ColumnKind(StrEnum):
    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    INSTANT = "instant"  # aware UTC datetime, as "2026-11-23T09:00:00.000000Z" in bundles


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: ColumnKind
    nullable: bool
    max_length: int | None
    has_default: bool


# How a row belongs to a client: a WHERE clause on the table, given the client id. None = the
# table is shared by the team (users), so client-scoped exports include it whole.
ClientRule = Callable[[str], ColumnElement[bool]] | None


@dataclass(frozen=True)
class TableSpec:
    table: Table
    kind: RecordKind
    client_rule: ClientRule = None
    parents: dict[str, str] = field(default_factory=dict)  # field → parent table name
    enums: dict[str, frozenset[str]] = field(default_factory=dict)
    personal: dict[str, Callable[[str], str | None]] = field(default_factory=dict)  # field → masker
    unique: tuple[str, ...] = ()  # fields unique across the table (checked on import)
    label: str = ""  # Chinese name for messages
    library: bool = False  # exported by "library-only" (library entries, templates, rules)
    edited_at: str | None = None  # instant column bumped on every edit: wall time of new versions
    area: str = "tickets"  # the `Changes` flag an import that writes this table sets

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        return _fields(self.table, self.kind)


@functools.cache
def _fields(table: Table, kind: RecordKind) -> tuple[FieldSpec, ...]:
    skip = SYNC_COLUMNS if kind is RecordKind.MUTABLE else frozenset({"id"})
    specs = []
    for column in table.columns:
        if column.name in skip:
            continue
        if isinstance(column.type, UTCDateTime):
            col_kind = ColumnKind.INSTANT
        elif isinstance(column.type, Boolean):
            col_kind = ColumnKind.BOOL
        elif isinstance(column.type, Integer):
            col_kind = ColumnKind.INT
        elif isinstance(column.type, String) or isinstance(getattr(column.type, "impl", None), String):
            col_kind = ColumnKind.TEXT
        else:
            raise TypeError(f"{table.name}.{column.name}: column type {column.type!r} cannot sync")
        length = getattr(column.type, "length", None)
        has_default = column.default is not None or column.server_default is not None
        specs.append(FieldSpec(column.name, col_kind, bool(column.nullable), length, has_default))
    return tuple(specs)


def _values(enum: type[StrEnum]) -> frozenset[str]:
    return frozenset(member.value for member in enum)


def _masker(fn: Callable[[str | None], str | None]) -> Callable[[str], str | None]:
    return lambda value: fn(value)


_REGISTRY: dict[str, TableSpec] = {}


def register(spec: TableSpec) -> None:
    """Add a table; parents must be registered first (apply order = registration order)."""
    for parent in spec.parents.values():
        if parent not in _REGISTRY and parent != spec.name:
            raise ValueError(f"{spec.name}: parent table {parent} is not registered yet")
    _REGISTRY[spec.name] = spec


def specs() -> tuple[TableSpec, ...]:
    """All syncing tables, parents before children."""
    return tuple(_REGISTRY.values())


def spec_for(table: str) -> TableSpec | None:
    return _REGISTRY.get(table)


def table_names() -> frozenset[str]:
    return frozenset(_REGISTRY)


def to_json(kind: ColumnKind, value: object) -> JsonValue:
    if value is None:
        return None
    if kind is ColumnKind.INSTANT:
        assert isinstance(value, datetime)
        return instant_text(value)
    if kind is ColumnKind.BOOL:
        return bool(value)
    if kind is ColumnKind.INT:
        assert isinstance(value, int)
        return value
    return str(value)


def instant_text(value: datetime) -> str:
    """`value` in UTC as `%Y-%m-%dT%H:%M:%S.%fZ` (strftime is several times slower than isoformat)."""
    utc = value.astimezone(UTC)
    if utc.year < 1000:  # strftime does not pad such years to four digits; isoformat does
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.isoformat(timespec="microseconds")[:-6] + "Z"  # drops "+00:00"


def from_json(spec: FieldSpec, value: JsonValue) -> object:
    """The database value for a bundle value; raises ValueError naming the problem."""
    if value is None:
        if not spec.nullable:
            raise ValueError(f"字段“{spec.name}”不能为空")
        return None
    if spec.kind is ColumnKind.INSTANT:
        if not isinstance(value, str) or not value.endswith("Z"):
            raise ValueError(f"字段“{spec.name}”应为 UTC 时间")
        try:
            return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
        except ValueError:
            raise ValueError(f"字段“{spec.name}”的时间“{value}”无法识别") from None
    if spec.kind is ColumnKind.BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"字段“{spec.name}”应为真/假")
        return value
    if spec.kind is ColumnKind.INT:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"字段“{spec.name}”应为整数")
        return value
    if not isinstance(value, str):
        raise ValueError(f"字段“{spec.name}”应为文本")
    if spec.max_length is not None and len(value) > spec.max_length:
        raise ValueError(f"字段“{spec.name}”超过 {spec.max_length} 个字符")
    return value


def converter(spec: FieldSpec) -> Callable[[JsonValue], object]:
    """`functools.partial(from_json, spec)`, quicker for the usual values (tested to be equal):
    anything unusual, including every value `from_json` refuses, is handed to `from_json`."""
    if spec.kind is ColumnKind.TEXT:
        limit = spec.max_length

        def text(value: JsonValue) -> object:
            if type(value) is str and (limit is None or len(value) <= limit):
                return value
            return from_json(spec, value)

        return text
    if spec.kind is ColumnKind.INSTANT:

        def instant(value: JsonValue) -> object:
            if type(value) is str and value.endswith("Z"):
                try:
                    return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
                except ValueError:
                    pass
            return from_json(spec, value)

        return instant
    plain = bool if spec.kind is ColumnKind.BOOL else int

    def exact(value: JsonValue) -> object:
        return value if type(value) is plain else from_json(spec, value)

    return exact


def _ticket_of_client(client_id: str) -> ColumnElement[bool]:
    return ticket_events.c.ticket_id.in_(select(tickets.c.id).where(tickets.c.client_id == client_id))


register(TableSpec(users, RecordKind.MUTABLE, enums={"role": _values(Role)}, label="客服", area="users"))
register(
    TableSpec(
        clients,
        RecordKind.MUTABLE,
        client_rule=lambda cid: clients.c.id == cid,
        unique=("name",),
        label="品牌方",
    )
)
register(
    TableSpec(
        shops,
        RecordKind.MUTABLE,
        client_rule=lambda cid: shops.c.client_id == cid,
        parents={"client_id": "client"},
        enums={"platform": _values(Platform)},
        label="店铺",
    )
)
register(
    TableSpec(
        customers,
        RecordKind.MUTABLE,
        client_rule=lambda cid: customers.c.client_id == cid,
        parents={"client_id": "client"},
        enums={"platform": _values(Platform)},
        personal={"phone": _masker(mask_phone), "address": _masker(mask_address)},
        label="买家",
    )
)
register(
    TableSpec(
        tickets,
        RecordKind.MUTABLE,
        client_rule=lambda cid: tickets.c.client_id == cid,
        parents={
            "client_id": "client",
            "shop_id": "shop",
            "customer_id": "customer",
            "assignee_id": "user",
            "created_by": "user",
        },
        enums={
            "platform": _values(Platform),
            "category": _values(TicketCategory),
            "priority": _values(Priority),
            "status": _values(TicketStatus),
        },
        label="工单",  # numbers repeat across machines by design (see db/models.Ticket)
        edited_at="updated_at",
    )
)
register(
    TableSpec(
        ticket_events,
        RecordKind.APPEND_ONLY,
        client_rule=_ticket_of_client,
        parents={"ticket_id": "ticket", "actor_id": "user"},
        enums={"kind": _values(EventKind)},
        label="工单时间线",
    )
)
