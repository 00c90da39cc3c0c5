"""Library spreadsheets: encodings, CSV shape, row validation with line/column/reason, write-back."""

from __future__ import annotations

import pytest

from dyy_desk.core.library_rows import (
    FaqRow,
    LibraryFileError,
    LibraryKind,
    ParsedLibrary,
    ScriptRow,
    cells_to_csv,
    decode_bytes,
    guess_kind,
    parse_csv,
    rows_to_cells,
    split_similar,
    validate_table,
)

FAQ_TEXT = (
    "id,question,answer,similar_questions,client,tags\n"
    "F1,退款多久到账,原路退回,钱什么时候退|几天到,,退款|到账\n"
)


def parsed(text: str, kind: LibraryKind | None = None) -> ParsedLibrary:
    return validate_table(parse_csv(text, "f.csv"), kind)


@pytest.mark.parametrize(
    "data",
    [FAQ_TEXT.encode("utf-8"), b"\xef\xbb\xbf" + FAQ_TEXT.encode("utf-8"), FAQ_TEXT.encode("gb18030")],
    ids=["utf8", "utf8-bom", "gb18030"],
)
def test_decodes_utf8_bom_and_gb18030(data: bytes) -> None:
    text = decode_bytes(data, "f.csv")
    assert "退款多久到账" in text and not text.startswith("\ufeff")


def test_mixed_encodings_name_the_odd_line() -> None:
    data = FAQ_TEXT.encode("utf-8") + "F2,发票怎么开,订单里申请\n".encode("gb18030")
    with pytest.raises(LibraryFileError) as err:
        decode_bytes(data, "f.csv")
    assert err.value.issues[0].line == 3
    assert "混用" in str(err.value)


def test_bom_file_with_gbk_line_is_an_error() -> None:
    data = b"\xef\xbb\xbf" + FAQ_TEXT.encode("utf-8") + "F2,发票,开\n".encode("gb18030")
    with pytest.raises(LibraryFileError, match="第 3 行"):
        decode_bytes(data, "f.csv")


def test_undecodable_bytes_are_an_error() -> None:
    with pytest.raises(LibraryFileError, match=r"第 2 行.*编码无法识别"):
        decode_bytes(b"id,question,answer\n1,\x80\x80\xff,x\n", "f.csv")


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"  \n\n"])
def test_empty_file(data: bytes) -> None:
    with pytest.raises(LibraryFileError, match="文件为空"):
        decode_bytes(data, "f.csv")


def test_header_only_is_an_error() -> None:
    with pytest.raises(LibraryFileError, match="没有数据行"):
        parsed("id,question,answer\n")


def test_missing_required_columns_named() -> None:
    with pytest.raises(LibraryFileError) as err:
        parsed("id,question,client\nF1,问,\n", LibraryKind.FAQ)
    assert [(i.column, i.line) for i in err.value.issues] == [("answer", 1)]


def test_unknown_kind_is_an_error() -> None:
    with pytest.raises(LibraryFileError, match="无法判断"):
        parsed("a,b\n1,2\n")


def test_guess_kind_from_columns_including_chinese_headers() -> None:
    assert guess_kind(["问题", "答案"]) is LibraryKind.FAQ
    assert guess_kind(["id", "title", "body"]) is LibraryKind.SCRIPTS


def test_similar_questions_split_on_bar_and_newlines() -> None:
    text = (
        "id,question,answer,similar_questions\n"
        "F1,退款多久,原路退回,几天到｜钱呢 | 退款多久|几天到\n"
        'F2,问,答,"a|b\n c \r\n\nc"\n'
    )
    result = parsed(text)
    first, second = result.rows
    assert isinstance(first, FaqRow) and isinstance(second, FaqRow)
    assert first.similar_questions == ("几天到", "钱呢")  # the question itself and repeats dropped
    assert second.similar_questions == ("a|b", "c")  # line breaks win: a "|" may be part of a question
    assert split_similar(" a || b ") == ("a", "b")


def test_row_errors_carry_line_column_reason() -> None:
    text = (
        "id,question,answer,client\n"
        "F1,退款多久,原路退回,\n"
        "F2,,没有问题,\n"
        "F1,重复的编号,答,\n"
        "F3,问,答,暖居家纺,多出来的\n"
    )
    result = parsed(text)
    got = {(i.line, i.column) for i in result.issues}
    assert got == {(3, "question"), (4, "id"), (5, "")}
    assert "与第 2 行重复" in str(next(i for i in result.issues if i.line == 4))
    assert [r.external_id for r in result.rows] == ["F1"]


def test_unterminated_quote_is_malformed() -> None:
    with pytest.raises(LibraryFileError, match=r"第 2 行.*引号未闭合"):
        parse_csv('id,question,answer\nF1,"退款,答\n', "f.csv")


def test_script_rows_normalise_shortcut_and_reject_bad_ones() -> None:
    text = (
        "id,title,body,group,shortcut,client\n"
        "S1,欢迎,亲，在的,问候,HY,\n"
        "S2,退货,寄回,退换货,/退货,\n"
        "S3,再见,谢谢,结束语,/hy,\n"
    )
    result = parsed(text)
    assert isinstance(result.rows[0], ScriptRow) and result.rows[0].shortcut == "/hy"
    reasons = {(i.line, i.column): i.reason for i in result.issues}
    assert "字母" in reasons[(3, "shortcut")]
    assert "重复" in reasons[(4, "shortcut")]


def test_unknown_platform_and_ignored_columns() -> None:
    result = parsed("question,answer,platforms,备注\n问,答,淘宝|火星,x\n问2,答2,京东|tmall,\n")
    assert [(i.line, i.column) for i in result.issues] == [(2, "platforms")]
    assert result.rows[0].platforms == ("jd", "tmall")
    assert "备注" in result.notes[0]


def test_tab_separated_is_accepted() -> None:
    row = parsed("question\tanswer\n问\t答\n").rows[0]
    assert isinstance(row, FaqRow) and row.question == "问"


def test_write_back_round_trip() -> None:
    rows = [
        FaqRow(0, "F1", "退款, 多久", '答案里有"引号"', ("a|b", "c"), "青禾食品", ("退款",), ("jd",)),
        FaqRow(0, "F2", "发票", "订单里申请", (), None, (), ()),
    ]
    text = cells_to_csv(rows_to_cells(LibraryKind.FAQ, rows))
    back = validate_table(parse_csv(text, "x.csv"), LibraryKind.FAQ)
    assert not back.issues
    read = [r for r in back.rows if isinstance(r, FaqRow)]
    assert len(read) == len(back.rows) == 2
    assert [
        (r.external_id, r.question, r.answer, r.similar_questions, r.client, r.platforms) for r in read
    ] == [(r.external_id, r.question, r.answer, r.similar_questions, r.client, r.platforms) for r in rows]
