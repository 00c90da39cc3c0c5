"""Three machines edit, export and import in random orders; after everyone has imported everyone's
bundles they hold the same rows (through the real database, stamping and streaming path)."""

from __future__ import annotations

import itertools
import os
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from dyy_desk.core.clock import FakeClock
from dyy_desk.core.types import TicketStatus
from dyy_desk.services.workspace import Seed
from tests.conftest import START
from tests.services.test_sync_support import contents, memory_keyring, open_machine

__all__ = ["memory_keyring"]
EXAMPLES = int(os.environ.get("DYY_SYNC_PROPERTY_EXAMPLES", "4"))

op = st.one_of(
    st.tuples(st.just("status"), st.integers(0, 2), st.integers(0, 4), st.sampled_from(list(TicketStatus))),
    st.tuples(
        st.just("note"), st.integers(0, 2), st.integers(0, 4), st.text("备注ab", min_size=1, max_size=4)
    ),
    st.tuples(
        st.just("phone"),
        st.integers(0, 2),
        st.integers(0, 4),
        st.sampled_from(["13800000001", "13911112222"]),
    ),
    st.tuples(st.just("sync"), st.integers(0, 2), st.integers(0, 2), st.booleans()),
)


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking reruns whole machines: too slow
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(op, min_size=3, max_size=8))
def test_three_machines_converge(memory_keyring: object, ops: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        clocks = [FakeClock(START) for _ in range(3)]
        machines = [
            open_machine(root, n, c, seed=Seed.DEMO if n == "a" else Seed.EMPTY)
            for n, c in zip("abc", clocks, strict=True)
        ]
        try:
            key, _ = machines[0].sync.create_team(name="李娜")
            for m, name in zip(machines[1:], ("王芳", "张伟"), strict=True):
                m.sync.join_team(key_text=key, name=name)
            bundles: list[Path] = []
            first = root / "seed.dyyb"
            machines[0].sync.export(out=first)
            bundles.append(first)
            for m in machines[1:]:
                m.sync.apply(path=first)
            with sqlite3.connect(machines[0].db_path) as con:
                tickets = [r[0] for r in con.execute("SELECT id FROM ticket ORDER BY id LIMIT 5")]
                customers = [r[0] for r in con.execute("SELECT id FROM customer ORDER BY id LIMIT 5")]
            for step, (kind, i, j, arg) in enumerate(ops):
                m = machines[int(i)]  # type: ignore[call-overload]
                clocks[int(i)].advance(seconds=7 * (int(i) + 1))  # type: ignore[call-overload]
                if kind == "status":
                    with sqlite3.connect(m.db_path) as con:  # any status: a plain edit of the row
                        con.execute(
                            "UPDATE ticket SET status=?, updated_at=? WHERE id=?",
                            (
                                str(arg),
                                clocks[int(i)].now().strftime("%Y-%m-%d %H:%M:%S.%f"),  # type: ignore[call-overload]
                                tickets[int(j)],
                            ),
                        )  # type: ignore[call-overload]
                elif kind == "note":
                    m.workspace.tickets.add_note(ticket_id=tickets[int(j)], text=str(arg), actor_id=None)  # type: ignore[call-overload]
                elif kind == "phone":
                    with sqlite3.connect(m.db_path) as con:
                        con.execute("UPDATE customer SET phone=? WHERE id=?", (arg, customers[int(j)]))  # type: ignore[call-overload]
                else:
                    out = root / f"b{step}.dyyb"
                    m.sync.export(out=out)
                    bundles.append(out)
                    target = machines[int(j)]  # type: ignore[call-overload]
                    if target is not m:
                        target.sync.apply(path=out)
            for n, m in enumerate(machines):
                out = root / f"final{n}.dyyb"
                m.sync.export(out=out)
                bundles.append(out)
            for m, path in itertools.product(machines, bundles):
                m.sync.apply(path=path)
            first_rows = contents(machines[0])
            for m in machines[1:]:
                assert contents(m) == first_rows
        finally:
            for m in machines:
                m.close()
