"""The spreadsheets teams keep their FAQ and reply scripts in: decode, parse, validate, write back.

Pure: the service reads the file (CSV bytes, or XLSX cells through openpyxl) and passes the content
plus a source name. Every problem is a `RowIssue` naming the file, the line as the user's spreadsheet
numbers it, the column and the reason in Chinese; a file with any issue is never applied.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from dyy_desk.core.types import Platform


class LibraryKind(StrEnum):
    FAQ = "faq"
    SCRIPTS = "scripts"


FAQ_COLUMNS = ("id", "question", "answer", "similar_questions", "client", "tags")
SCRIPT_COLUMNS = ("id", "title", "body", "group", "shortcut", "client")
_REQUIRED = {LibraryKind.FAQ: ("question", "answer"), LibraryKind.SCRIPTS: ("title", "body")}
_KNOWN = {
    LibraryKind.FAQ: frozenset((*FAQ_COLUMNS, "platforms")),
    LibraryKind.SCRIPTS: frozenset((*SCRIPT_COLUMNS, "platforms")),
}
_ALIASES = {
    "编号": "id", "外部id": "id", "问题": "question", "标准问题": "question", "标准问法": "question",
    "答案": "answer", "回答": "answer", "相似问法": "similar_questions", "相似问题": "similar_questions",
    "客户": "client", "品牌": "client", "品牌方": "client", "标签": "tags", "标题": "title",
    "名称": "title", "内容": "body", "正文": "body", "话术": "body", "分组": "group", "快捷编码": "shortcut",
    "快捷短语": "shortcut", "平台": "platforms", "similar": "similar_questions", "tag": "tags",
    "platform": "platforms", "group_name": "group",
}  # fmt: skip
_PLATFORM_NAMES = {
    "淘宝": Platform.TAOBAO, "天猫": Platform.TMALL, "京东": Platform.JD, "拼多多": Platform.PDD,
    "抖音": Platform.DOUYIN, "抖店": Platform.DOUYIN, "小红书": Platform.XIAOHONGSHU,
    "微信": Platform.WECHAT, "微信小店": Platform.WECHAT, "其他": Platform.OTHER,
}  # fmt: skip
_LIMITS = {"id": 64, "question": 500, "title": 200, "client": 64, "group": 32, "shortcut": 32}
_LINES = re.compile(r"[\r\n]+")
_BARS = re.compile(r"[|｜]+")
_LIST_SPLIT = re.compile(r"[|｜,，、;；\r\n]+")
_SHORTCUT_RE = re.compile(r"^/[A-Za-z0-9_]{1,30}$")


@dataclass(frozen=True)
class RowIssue:
    source: str
    line: int
    column: str  # "" when the issue is about the whole row or file
    reason: str

    def __str__(self) -> str:
        where = f"第 {self.line} 行" if self.line else ""
        column = f" {self.column} 列" if self.column else ""
        return f"{self.source} {where}{column}: {self.reason}"


class LibraryFileError(ValueError):
    """The file cannot be read as a library at all (encoding, no header, no rows, missing columns)."""

    def __init__(self, issues: Sequence[RowIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


@dataclass(frozen=True)
class RawRow:
    line: int
    cells: tuple[str, ...]


@dataclass(frozen=True)
class RawTable:
    """Header and rows as strings, from a CSV or one worksheet; `issues` found while reading."""

    source: str
    header_line: int
    header: tuple[str, ...]
    rows: tuple[RawRow, ...]
    issues: tuple[RowIssue, ...] = ()


@dataclass(frozen=True)
class FaqRow:
    line: int
    external_id: str | None
    question: str
    answer: str
    similar_questions: tuple[str, ...] = ()
    client: str | None = None
    tags: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScriptRow:
    line: int
    external_id: str | None
    title: str
    body: str
    group: str = ""
    shortcut: str | None = None
    client: str | None = None
    platforms: tuple[str, ...] = ()


LibraryRow = FaqRow | ScriptRow


@dataclass(frozen=True)
class ParsedLibrary:
    kind: LibraryKind
    rows: tuple[LibraryRow, ...]  # the valid rows only
    issues: tuple[RowIssue, ...]
    notes: tuple[str, ...]


def decode_bytes(data: bytes, source: str) -> str:
    """UTF-8 (with or without BOM) or GB18030, decided line by line so a file mixing the two (rows
    pasted from another export) is caught and the first odd line named, instead of becoming mojibake."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LibraryFileError(
            [RowIssue(source, 0, "", "UTF-16 编码不支持，请在 Excel 中另存为「CSV UTF-8」")]
        )
    bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if bom else data
    if not body.strip():
        raise LibraryFileError([RowIssue(source, 0, "", "文件为空")])
    first: tuple[str, int] | None = None
    for lineno, raw in enumerate(body.split(b"\n"), start=1):
        if raw.isascii():
            continue
        encoding = _line_encoding(raw)
        if encoding is None or (bom and encoding != "utf-8"):
            reason = (
                "不是 UTF-8 编码（文件开头标明了 UTF-8）" if bom else "编码无法识别（不是 UTF-8 或 GB18030）"
            )
            raise LibraryFileError([RowIssue(source, lineno, "", reason + "，请检查这一行或重新保存文件")])
        if first is None:
            first = (encoding, lineno)
        elif encoding != first[0]:
            raise LibraryFileError(
                [
                    RowIssue(
                        source,
                        lineno,
                        "",
                        f"编码是 {_label(encoding)}，而第 {first[1]} 行是 {_label(first[0])}："
                        "文件混用了两种编码，请整个文件用同一种编码（推荐 UTF-8）保存",
                    )
                ]
            )
    return body.decode(first[0] if first else "utf-8")


def _line_encoding(raw: bytes) -> str | None:
    for encoding in ("utf-8", "gb18030"):
        try:
            raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _label(encoding: str) -> str:
    return "UTF-8" if encoding == "utf-8" else "GB18030（GBK）"


def parse_csv(text: str, source: str) -> RawTable:
    """Comma-separated (tab-separated when the header has tabs and no commas); blank rows skipped."""
    text = text.removeprefix("\ufeff")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[RawRow] = []
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            reason = "引号未闭合" if "unexpected end" in str(exc) else f"格式错误（{exc}）"
            raise LibraryFileError([RowIssue(source, start, "", f"{reason}，无法继续读取")]) from exc
        if any(cell.strip() for cell in cells):
            rows.append(RawRow(start, tuple(cells)))
    if not rows:
        raise LibraryFileError([RowIssue(source, 0, "", "文件为空")])
    return RawTable(source, rows[0].line, rows[0].cells, tuple(rows[1:]))


def canonical_column(name: str) -> str:
    key = name.strip().removeprefix("\ufeff").strip().lower().replace(" ", "_")
    return _ALIASES.get(key, key)


def guess_kind(header: Iterable[str]) -> LibraryKind | None:
    columns = {canonical_column(h) for h in header}
    if columns & {"question", "answer", "similar_questions"}:
        return LibraryKind.FAQ
    if columns & {"title", "body", "shortcut", "group"}:
        return LibraryKind.SCRIPTS
    return None


def validate_table(table: RawTable, kind: LibraryKind | None = None) -> ParsedLibrary:
    """Check every row; raises LibraryFileError only when the file as a whole is unusable."""
    source = table.source
    columns = [canonical_column(h) for h in table.header]
    kind = kind or guess_kind(columns)
    if kind is None:
        raise LibraryFileError(
            [RowIssue(source, table.header_line, "", "无法判断文件类型：知识库需要 question 和 answer 列，"
                      "话术需要 title 和 body 列（也可用 --kind 指定）")]
        )  # fmt: skip
    fatal = [
        RowIssue(source, table.header_line, column, "缺少必需的列")
        for column in _REQUIRED[kind]
        if column not in columns
    ]
    seen_columns: dict[str, int] = {}
    for position, column in enumerate(columns):
        if column in seen_columns and column in _KNOWN[kind]:
            fatal.append(RowIssue(source, table.header_line, column, "表头中重复出现"))
        seen_columns.setdefault(column, position)
    if fatal:
        raise LibraryFileError(fatal)
    if not table.rows:
        raise LibraryFileError([RowIssue(source, table.header_line, "", "文件只有表头，没有数据行")])
    notes = []
    ignored = [h for h, c in zip(table.header, columns, strict=True) if c not in _KNOWN[kind] and h.strip()]
    if ignored:
        notes.append(f"已忽略未知的列：{'、'.join(ignored)}")
    issues = list(table.issues)
    rows: list[LibraryRow] = []
    ids: dict[str, int] = {}
    shortcuts: dict[tuple[str | None, str], int] = {}
    for raw in table.rows:
        cells = dict.fromkeys(_KNOWN[kind], "")
        row_issues: list[RowIssue] = []
        if len(raw.cells) > len(columns) and any(c.strip() for c in raw.cells[len(columns) :]):
            row_issues.append(
                RowIssue(source, raw.line, "", f"有 {len(raw.cells)} 列，多于表头的 {len(columns)} 列"
                         "（单元格里的逗号要用双引号括起来）")
            )  # fmt: skip
        for position, (column, value) in enumerate(zip(columns, raw.cells, strict=False)):
            if column in cells and seen_columns[column] == position:
                cells[column] = value.strip()
        row_issues += _check_cells(source, raw.line, kind, cells)
        external_id = cells["id"] or None
        if external_id is not None:
            if external_id in ids:
                row_issues.append(
                    RowIssue(source, raw.line, "id", f"「{external_id}」与第 {ids[external_id]} 行重复")
                )
            ids.setdefault(external_id, raw.line)
        platforms, platform_issue = _platforms(cells["platforms"])
        if platform_issue:
            row_issues.append(RowIssue(source, raw.line, "platforms", platform_issue))
        client = cells["client"] or None
        if kind is LibraryKind.SCRIPTS and cells["shortcut"]:
            key = (client, _shortcut(cells["shortcut"]))
            if key in shortcuts:
                row_issues.append(
                    RowIssue(
                        source, raw.line, "shortcut", f"快捷编码「{key[1]}」与第 {shortcuts[key]} 行重复"
                    )
                )
            shortcuts.setdefault(key, raw.line)
        if row_issues:
            issues += row_issues
            continue
        rows.append(_make_row(kind, raw.line, external_id, client, platforms, cells))
    return ParsedLibrary(kind, tuple(rows), tuple(issues), tuple(notes))


def _check_cells(source: str, line: int, kind: LibraryKind, cells: dict[str, str]) -> list[RowIssue]:
    found = [RowIssue(source, line, c, "不能为空") for c in _REQUIRED[kind] if not cells[c]]
    for column, limit in _LIMITS.items():
        if column in cells and len(cells[column]) > limit:
            found.append(RowIssue(source, line, column, f"最多 {limit} 个字（现有 {len(cells[column])} 个）"))
    for column in ("id", "client", "group", "shortcut"):
        if column in cells and ("\n" in cells[column] or "\r" in cells[column]):
            found.append(RowIssue(source, line, column, "不能换行"))
    if (
        kind is LibraryKind.SCRIPTS
        and cells["shortcut"]
        and not _SHORTCUT_RE.match(_shortcut(cells["shortcut"]))
    ):
        found.append(RowIssue(source, line, "shortcut", "快捷编码只能用字母、数字和下划线，如 /thh"))
    return found


def _shortcut(value: str) -> str:
    value = value.strip()
    return (value if value.startswith("/") else "/" + value).lower()


def _platforms(value: str) -> tuple[tuple[str, ...], str | None]:
    found: dict[str, None] = {}
    for part in split_list(value):
        platform = _PLATFORM_NAMES.get(part)
        if platform is None and part.lower() in {p.value for p in Platform}:
            platform = Platform(part.lower())
        if platform is None:
            return (), f"不认识的平台「{part}」（可用：{'、'.join(_PLATFORM_NAMES)}）"
        found.setdefault(platform.value, None)
    return tuple(found), None


def split_similar(value: str) -> tuple[str, ...]:
    """Similar questions are one per line inside the cell, or separated by `|` (or a full-width ｜).
    A cell with line breaks is split on them only, so a question may itself contain a `|`."""
    splitter = _LINES if "\n" in value or "\r" in value else _BARS
    return tuple(dict.fromkeys(p.strip() for p in splitter.split(value) if p.strip()))


def split_list(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p.strip() for p in _LIST_SPLIT.split(value) if p.strip()))


def _make_row(
    kind: LibraryKind,
    line: int,
    external_id: str | None,
    client: str | None,
    platforms: tuple[str, ...],
    cells: dict[str, str],
) -> LibraryRow:
    if kind is LibraryKind.FAQ:
        similar = tuple(q for q in split_similar(cells["similar_questions"]) if q != cells["question"])
        return FaqRow(
            line,
            external_id,
            cells["question"],
            cells["answer"],
            similar,
            client,
            split_list(cells["tags"]),
            platforms,
        )
    shortcut = _shortcut(cells["shortcut"]) if cells["shortcut"] else None
    return ScriptRow(
        line, external_id, cells["title"], cells["body"], cells["group"], shortcut, client, platforms
    )


def rows_to_cells(kind: LibraryKind, rows: Sequence[LibraryRow]) -> list[list[str]]:
    """Header plus one list of cells per entry, the layout `validate_table` reads back unchanged.
    A `platforms` column is added only when some entry is limited to certain platforms."""
    with_platforms = any(row.platforms for row in rows)
    header = list(FAQ_COLUMNS if kind is LibraryKind.FAQ else SCRIPT_COLUMNS)
    if with_platforms:
        header.append("platforms")
    out = [header]
    for row in rows:
        if isinstance(row, FaqRow):
            joiner = "\n" if any("|" in q for q in row.similar_questions) else "|"
            cells = [
                row.external_id or "",
                row.question,
                row.answer,
                joiner.join(row.similar_questions),
                row.client or "",
                "|".join(row.tags),
            ]
        else:
            cells = [
                row.external_id or "",
                row.title,
                row.body,
                row.group,
                row.shortcut or "",
                row.client or "",
            ]
        if with_platforms:
            cells.append("|".join(row.platforms))
        out.append(cells)
    return out


def cells_to_csv(cells: Sequence[Sequence[str]]) -> str:
    """CSV text with CRLF line ends (what Excel writes); the caller encodes it as UTF-8 with BOM."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(cells)
    return buffer.getvalue()
