"""Writing a report file the way every export in the app does: .xlsx or .csv only, into a folder that
exists, through a temporary file moved into place, so a failed or cancelled export never leaves half
a file where the user asked for one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from dyy_desk.services.errors import ServiceError


def write_table_export(
    path: Path, *, prefix: str, write_csv: Callable[[Path], None], write_xlsx: Callable[[Path], None]
) -> Path:
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ServiceError(f"不支持的导出格式「{path.suffix or '无扩展名'}」，请选择 .xlsx 或 .csv 文件")
    if not path.parent.is_dir():
        raise ServiceError(f"文件夹 {path.parent} 不存在，未导出")
    fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        (write_csv if suffix == ".csv" else write_xlsx)(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ServiceError(
            f"无法写入 {path}：{exc.strerror or exc}。请关闭正在打开该文件的程序后重试。"
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
