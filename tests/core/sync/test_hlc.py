from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyy_desk.core.sync.hlc import MAX_COUNTER, Hlc, HybridClock

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

hlcs = st.builds(
    Hlc,
    st.integers(0, 10**15 - 1),
    st.integers(0, MAX_COUNTER),
    st.sampled_from(["a", "b1", "machine-2", "z", "0f3e"]),
)


@settings(max_examples=200)
@given(st.lists(hlcs, min_size=2, max_size=10))
def test_string_order_is_version_order(versions: list[Hlc]) -> None:
    assert sorted(versions) == sorted(versions, key=Hlc.encode)
    assert [Hlc.parse(v.encode()) for v in versions] == versions


def test_encoding_is_fixed_width_and_strict() -> None:
    v = Hlc(1_763_888_400_000, 7, "pc-a")
    assert v.encode() == "001763888400000-000007-pc-a"
    for bad in ["1763888400000-000007-pc-a", "001763888400000-000007-PC", "001763888400000-7-a", ""]:
        with pytest.raises(ValueError):
            Hlc.parse(bad)


def test_tick_is_strictly_monotonic_even_when_wall_clock_goes_back() -> None:
    clock = HybridClock("a")
    seen = [clock.tick(T0), clock.tick(T0), clock.tick(T0 - timedelta(hours=1)), clock.tick(T0)]
    assert seen == sorted(seen) and len(set(seen)) == 4
    assert seen[0] == Hlc(int(T0.timestamp() * 1000), 0, "a")
    assert seen[2].wall_ms == seen[0].wall_ms and seen[2].counter == 2
    later = clock.tick(T0 + timedelta(seconds=1))
    assert later == Hlc(int(T0.timestamp() * 1000) + 1000, 0, "a")


def test_receive_orders_later_local_writes_after_remote_ones() -> None:
    clock = HybridClock("a")
    remote = Hlc(int((T0 + timedelta(minutes=5)).timestamp() * 1000), 3, "b")  # b's clock runs fast
    after = clock.receive(remote, T0)
    assert after > remote and after.origin == "a"
    assert clock.tick(T0) > after
    assert clock.receive(Hlc(1, 0, "c"), T0) > after  # an old remote never moves the clock back


def test_counter_overflow_borrows_next_millisecond() -> None:
    wall = int(T0.timestamp() * 1000)
    clock = HybridClock("a", Hlc(wall, MAX_COUNTER, "a"))
    assert clock.tick(T0) == Hlc(wall + 1, 0, "a")


def test_restored_state_keeps_monotonicity_and_rejects_naive_time() -> None:
    clock = HybridClock("a", Hlc(10**14, 5, "old-id"))
    assert clock.tick(T0) == Hlc(10**14, 6, "a")
    with pytest.raises(ValueError):
        clock.tick(datetime(2026, 1, 1))
