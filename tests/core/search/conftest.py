"""A small hand-written library and the real resources, shared by the search tests.

The engine (and jieba's dictionary) is built once per session: jieba's start-up dominates test time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dyy_desk.core.search import SearchDoc, SearchEngine, SearchResources, load_search_resources

RESOURCES = Path(__file__).resolve().parents[3] / "resources" / "search"

LIBRARY = (
    SearchDoc(
        "refund-time",
        "faq",
        "退款多久能到账",
        ("钱什么时候退回来", "退款几天到"),
        "商家同意后原路退回，一般 1-3 个工作日到账。",
        ("退款", "到账"),
    ),
    SearchDoc(
        "return-refund",
        "faq",
        "怎么申请退货退款",
        ("想把东西退了拿回钱",),
        "在订单详情点申请售后，选择退货退款，填写原因后寄回商品。",
        ("退货退款",),
    ),
    SearchDoc(
        "freight-ins",
        "faq",
        "运费险怎么理赔",
        ("退货的运费谁出",),
        "退货签收后运费险自动理赔到您的支付账户。",
        ("运费险",),
    ),
    SearchDoc(
        "seven-day",
        "faq",
        "七天无理由退货的条件",
        ("拆了包装还能七天无理由吗",),
        "商品完好、不影响二次销售即可申请。",
        ("七天无理由",),
    ),
    SearchDoc(
        "invoice", "faq", "怎么开发票", ("发票抬头怎么填",), "在订单里申请开票，填写抬头和税号。", ("发票",)
    ),
    SearchDoc(
        "address", "faq", "下单后可以修改收货地址吗", ("地址填错了",), "未发货前可以修改地址。", ("地址",)
    ),
    SearchDoc(
        "script-thh",
        "script",
        "退货后处理退款的回复",
        (),
        "亲，仓库收到退货后 24 小时内为您退款哦。",
        ("退货",),
        shortcut="/thh",
    ),
    SearchDoc("script-hello", "script", "欢迎语", (), "亲，在的，请问有什么可以帮您？", (), shortcut="/hy"),
    SearchDoc(
        "nj-refund-time",
        "faq",
        "退款多久能到账",
        ("暖居的退款几天到",),
        "暖居家纺的退款在仓库验收后 48 小时内原路退回。",
        ("退款",),
        client_id="nuanju",
    ),
    SearchDoc(
        "qh-refund-time",
        "faq",
        "退款多久能到账",
        ("青禾退款几天到",),
        "青禾食品的退款在审核后 24 小时内原路退回。",
        ("退款",),
        client_id="qinghe",
    ),
    SearchDoc(
        "sf-extra",
        "faq",
        "可以指定顺丰快递吗",
        ("能不能发顺丰",),
        "默认发中通，指定顺丰需补差价。",
        ("物流", "顺丰"),
    ),
)


@pytest.fixture(scope="session")
def resources() -> SearchResources:
    return load_search_resources(
        (RESOURCES / "user_dict.txt").read_text(encoding="utf-8"),
        (RESOURCES / "synonyms.toml").read_text(encoding="utf-8"),
    )


@pytest.fixture(scope="session")
def engine(resources: SearchResources, tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    eng = SearchEngine(resources, jieba_cache_dir=str(tmp_path_factory.mktemp("jieba")))
    eng.add_or_update(LIBRARY)
    return eng


def top_ids(engine: SearchEngine, query: str, **kwargs: object) -> list[str]:
    return [hit.doc_id for hit in engine.search(query, **kwargs)]  # type: ignore[arg-type]
