from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from dyy_desk.core.sync.errors import BundleError, Refusal
from dyy_desk.core.sync.gaps import find_gaps, gap_messages
from dyy_desk.core.sync.manifest import (
    Bundle,
    BundleLimits,
    Scope,
    ScopeKind,
    TableSummary,
    build_bundle,
    clock_skew_warning,
    manifest_from_json,
    manifest_to_json,
    validate_bundle,
)
from dyy_desk.core.sync.records import SyncRecord, edit_record, new_record
from tests.core.sync.factory import T0, Machine, rid


def make_bundle(*records: SyncRecord, sequence: int = 1, scope: Scope | None = None) -> Bundle:
    return build_bundle(
        records,
        schema_version=3,
        team_id="team-1",
        origin="pc-lina",
        origin_name="李娜",
        sequence=sequence,
        created_at=T0,
        scope=scope or Scope(ScopeKind.ALL_CHANGES),
    )


@pytest.fixture
def bundle() -> Bundle:
    m = Machine("pc-lina")
    return make_bundle(
        new_record("ticket", rid(1), {"status": "new"}, m.tick()),
        new_record("ticket", rid(2), {"status": "closed"}, m.tick()),
        new_record("faq_entry", rid(3), {"question": "多久发货？"}, m.tick()),
    )


def validate(bundle: Bundle, **kwargs: object) -> None:
    options: dict[str, object] = {"team_id": "team-1", "max_schema_version": 3, **kwargs}
    validate_bundle(bundle, **options)  # type: ignore[arg-type]


def test_valid_bundle_passes_and_manifest_round_trips(bundle: Bundle) -> None:
    validate(bundle, known_tables={"ticket", "faq_entry"})
    m = bundle.manifest
    assert m.tables["ticket"].count == 2 and len(m.tables["ticket"].sha256) == 64
    assert manifest_from_json(json.loads(json.dumps(manifest_to_json(m)))) == m
    assert manifest_to_json(m)["created_at"] == "2026-11-23T09:00:00.000Z"
    scoped = Scope(ScopeKind.CLIENT, "c-42", masked=True)
    assert Scope.parse(scoped.encode(), masked=True) == scoped


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        ({"format_version": 2}, Refusal.NEWER_FORMAT, "请先升级"),
        ({"schema_version": 4}, Refusal.NEWER_SCHEMA, "请先升级"),
        ({"team_id": "team-2"}, Refusal.OTHER_TEAM, "另一个团队"),
    ],
)
def test_refusals_by_manifest(bundle: Bundle, change: dict[str, object], reason: Refusal, words: str) -> None:
    broken = Bundle(dataclasses.replace(bundle.manifest, **change), bundle.records)  # type: ignore[arg-type]
    with pytest.raises(BundleError) as info:
        validate(broken)
    assert info.value.reason is reason and words in info.value.message


def test_checksum_mismatch_names_the_table(bundle: Bundle) -> None:
    tampered = list(bundle.records)
    index = next(i for i, r in enumerate(tampered) if r.id == rid(2))
    tampered[index] = edit_record(tampered[index], {"status": "resolved"}, Machine("x", 60).tick())
    with pytest.raises(BundleError) as info:
        validate(Bundle(bundle.manifest, tuple(tampered)))
    assert info.value.reason is Refusal.CHECKSUM and info.value.table == "ticket"
    assert "“ticket”表的校验和不一致" in info.value.message
    with pytest.raises(BundleError, match="应有 2 条记录"):
        validate(Bundle(bundle.manifest, tuple(r for r in bundle.records if r.id != rid(1))))
    unlisted = dataclasses.replace(bundle.manifest, tables={"ticket": bundle.manifest.tables["ticket"]})
    with pytest.raises(BundleError, match="faq_entry"):
        validate(Bundle(unlisted, bundle.records))


def test_limits_and_unknown_tables(bundle: Bundle) -> None:
    with pytest.raises(BundleError, match="超过上限 1 条") as info:
        validate(bundle, limits=BundleLimits(max_records_per_table=1))
    assert info.value.reason is Refusal.TOO_LARGE
    m = Machine("pc-lina")
    big = make_bundle(new_record("ticket", rid(7), {"note": "很长" * 400}, m.tick()))
    validate(big)
    with pytest.raises(BundleError, match=f"记录 {rid(7)} 有") as info:
        validate(big, limits=BundleLimits(max_record_bytes=1000))
    assert info.value.reason is Refusal.TOO_LARGE
    with pytest.raises(BundleError, match="不认识的表“faq_entry”"):
        validate(bundle, known_tables={"ticket"})


def test_duplicate_records_are_refused() -> None:
    m = Machine("pc-lina")
    record = new_record("ticket", rid(1), {"status": "new"}, m.tick())
    manifest = make_bundle(record).manifest
    doubled = dataclasses.replace(manifest, tables={"ticket": TableSummary(2, "0" * 64)})
    with pytest.raises(BundleError, match="重复"):
        validate(Bundle(doubled, (record, record)))


def test_sequence_rules() -> None:
    with pytest.raises(ValueError):
        make_bundle(sequence=0)
    with pytest.raises(ValueError):
        make_bundle(sequence=3, scope=Scope(ScopeKind.LIBRARY_ONLY))
    assert make_bundle(sequence=0, scope=Scope(ScopeKind.LIBRARY_ONLY)).manifest.sequence == 0


def test_clock_skew_warning(bundle: Bundle) -> None:
    assert clock_skew_warning(bundle.manifest, T0 - timedelta(minutes=30)) is None
    assert clock_skew_warning(bundle.manifest, T0 + timedelta(days=1)) is None
    warning = clock_skew_warning(bundle.manifest, T0 - timedelta(hours=3))
    assert warning is not None and warning.startswith("李娜 的电脑时钟比本机快约 3 小时")
    assert "快约 5 天" in (clock_skew_warning(bundle.manifest, T0 - timedelta(days=5)) or "")


def test_gap_detection_names_missing_bundles_in_chinese() -> None:
    seen = {
        "pc-lina": {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18},
        "pc-wang": [3, 7, 1, 2],
        "x": [],
    }
    names = {"pc-lina": "李娜", "pc-wang": "王强"}
    assert gap_messages(seen, names) == [
        "缺少来自 李娜 的电脑的第 17 号数据包",
        "缺少来自 王强 的电脑的第 4 至 6 号数据包",
    ]
    assert [(g.first, g.last) for g in find_gaps({"p": {2, 5, 6, 9}})] == [(1, 1), (3, 4), (7, 8)]
    assert find_gaps({"p": {1, 2, 3}}) == []
    assert gap_messages({"0123456789ab": {2}}, {}) == ["缺少来自 编号 01234567 的电脑的第 1 号数据包"]
