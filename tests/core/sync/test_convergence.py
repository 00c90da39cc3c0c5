"""Three machines edit, export (sometimes masked) and import each other's bundles in random orders,
with duplicates and losses; once everyone has the same set of bundles, every database is equal."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from dyy_desk.core.sync.codec import decode_bundle, encode_bundle
from dyy_desk.core.sync.hlc import Hlc
from dyy_desk.core.sync.manifest import Scope, ScopeKind, build_bundle
from dyy_desk.core.sync.merge import plan_merge
from dyy_desk.core.sync.records import (
    RecordKind,
    SyncRecord,
    delete_record,
    edit_record,
    mask_fields,
    mask_phone,
    new_record,
)
from tests.core.sync.factory import Machine, rid

ORIGINS = ("a", "b", "c")
FIELDS = ("status", "title", "phone")


@dataclass
class Node:
    machine: Machine
    store: dict[tuple[str, str], SyncRecord] = field(default_factory=dict)
    sequence: int = 0

    def write(self, key: tuple[str, str], change: str, value: int) -> None:
        old, version = self.store.get(key), self.machine.tick()
        if change == "delete":
            if old is not None and old.kind is RecordKind.MUTABLE:
                self.store[key] = delete_record(old, version)
            return
        val = f"1380000{value:04d}" if change == "phone" else f"{change}-{value}-{self.machine.clock.origin}"
        if old is None:
            self.store[key] = new_record(key[0], key[1], {change: val}, version)
        else:
            self.store[key] = edit_record(old, {change: val}, version)

    def export(self, *, masked: bool) -> bytes:
        records = list(self.store.values())
        if masked:
            records = [mask_fields(r, ["phone"], mask_phone) for r in records]
        self.sequence += 1
        bundle = build_bundle(
            records,
            schema_version=1,
            team_id="team-1",
            origin=self.machine.clock.origin,
            origin_name=self.machine.clock.origin.upper(),
            sequence=self.sequence,
            created_at=self.machine.now,
            scope=Scope(ScopeKind.ALL_CHANGES, masked=masked),
        )
        return encode_bundle(bundle)

    def import_(self, data: bytes) -> bool:
        records = decode_bundle(data).records
        plan = plan_merge(self.store, records)
        for record in plan.writes:
            self.store[record.key] = record
        if records:
            self.machine.clock.receive(max(Hlc.parse(r.version) for r in records), self.machine.now)
        return plan.is_noop


def _events(node: Node, n: int) -> None:
    key = ("ticket_event", rid(1000 + n))
    if key not in node.store:
        text = f"event {n} by {node.machine.clock.origin}"
        node.store[key] = new_record(
            key[0], key[1], {"text": text}, node.machine.tick(), kind=RecordKind.APPEND_ONLY
        )


writes = st.lists(
    st.tuples(
        st.integers(0, 2), st.integers(0, 2), st.sampled_from([*FIELDS, "delete", "event"]), st.integers(0, 9)
    ),
    max_size=6,
)
rounds = st.lists(
    st.tuples(
        writes,
        st.lists(st.tuples(st.integers(0, 2), st.booleans()), max_size=3),  # who exports, masked or not
        st.lists(st.tuples(st.integers(0, 2), st.integers(0, 99)), max_size=6),  # who imports which bundle
        st.integers(0, 2000),  # milliseconds until the next round
    ),
    min_size=1,
    max_size=5,
)

Round = tuple[list[tuple[int, int, str, int]], list[tuple[int, bool]], list[tuple[int, int]], int]


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # "explain" costs minutes
)
@given(rounds, st.randoms(use_true_random=False))
def test_any_bundles_in_any_order_converge(script: list[Round], rnd: random.Random) -> None:
    nodes = [Node(Machine(o, skew_s=s)) for o, s in zip(ORIGINS, (0, 30, -20), strict=True)]
    bundles: list[bytes] = []
    for edits, exports, imports, wait_ms in script:
        for who, record, change, value in edits:
            if change == "event":
                _events(nodes[who], value % 4)
            else:
                nodes[who].write(("ticket", rid(record)), change, value)
        bundles += [nodes[who].export(masked=masked) for who, masked in exports]
        for who, pick in imports:
            if bundles:
                nodes[who].import_(bundles[pick % len(bundles)])
        for node in nodes:
            node.machine.now += timedelta(milliseconds=wait_ms)

    bundles += [node.export(masked=False) for node in nodes]
    late = Node(Machine("d"))
    for node in [*nodes, late]:
        order = bundles + rnd.sample(bundles, k=min(3, len(bundles)))  # some arrive twice
        rnd.shuffle(order)
        for data in order:
            node.import_(data)

    reference = nodes[0].store
    assert all(node.store == reference for node in [*nodes, late])
    # Idempotent: importing anything again changes nothing.
    assert all(late.import_(data) for data in bundles)
    # Nothing real was replaced by a masked copy: every final unmasked bundle was imported.
    assert not any(r.masked_fields for r in reference.values())
