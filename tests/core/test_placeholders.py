"""Placeholders in reply scripts: found in order, filled from ticket fields, the rest left visible."""

from __future__ import annotations

from dyy_desk.core.placeholders import (
    fill_placeholders,
    find_placeholders,
    ticket_values,
    unknown_placeholders,
)


def test_find_in_order_of_first_appearance_once_each() -> None:
    body = "{买家昵称}您好，订单{订单号}的{商品名}已发出，{买家昵称}请查收"
    assert find_placeholders(body) == ("买家昵称", "订单号", "商品名")


def test_find_ignores_escaped_braces_and_spaces() -> None:
    assert find_placeholders("价格 {{不是占位符}} 与 { 空格 } 以及 {退款金额}") == ("退款金额",)


def test_fill_replaces_known_values_and_reports_unfilled() -> None:
    values = ticket_values(customer_nick="小鹿", order_no="TB20261123001", product=None)
    result = fill_placeholders("{买家昵称}亲，订单{订单号}的{商品名}预计{预计时间}到", values)
    assert result.text == "小鹿亲，订单TB20261123001的{商品名}预计{预计时间}到"
    assert result.filled == ("买家昵称", "订单号")
    assert result.unfilled == ("商品名", "预计时间")


def test_blank_value_counts_as_unfilled() -> None:
    result = fill_placeholders("退款{退款金额}元", {"退款金额": "  "})
    assert result.text == "退款{退款金额}元" and result.unfilled == ("退款金额",)


def test_escaped_braces_become_literal() -> None:
    assert fill_placeholders("{{订单号}}：{订单号}", {"订单号": "A1"}).text == "{订单号}：A1"


def test_ticket_values_drop_unknown_fields_and_strip() -> None:
    assert ticket_values(customer_nick=" 阿明 ", order_no="", tracking_no="SF123") == {
        "买家昵称": "阿明",
        "物流单号": "SF123",
    }


def test_unknown_placeholders_flag_typos() -> None:
    assert unknown_placeholders("{订单}号是{订单号}，{客服昵称}") == ("订单",)
