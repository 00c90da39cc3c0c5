"""All SOP templates of a workspace, and the choice of one for a case.

Choice rule: a template naming the case's platform beats the default one; among those, the latest
effective on the case's date wins (then the higher version). Old versions stay so a running checklist
keeps the template id and version it started with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from dyy_desk.core.sop_template import (
    AFTER_SALES_TYPE_LABELS,
    AfterSalesType,
    SopTemplate,
    parse_sop_template,
)
from dyy_desk.core.sop_toml import DataFileError, index_lines
from dyy_desk.core.types import Platform


@dataclass(frozen=True)
class SopRegistry:
    templates: tuple[SopTemplate, ...]

    def get(self, template_id: str, version: int) -> SopTemplate:
        for template in self.templates:
            if template.id == template_id and template.version == version:
                return template
        raise KeyError(f'没有模板 "{template_id}" 第 {version} 版')

    def pick(self, after_sales_type: AfterSalesType, platform: Platform, on: date) -> SopTemplate | None:
        def effective(specific: bool) -> list[SopTemplate]:
            return [
                t
                for t in self.templates
                if t.after_sales_type == after_sales_type
                and t.effective_date <= on
                and ((platform in t.platforms) if specific else not t.platforms)
            ]

        candidates = effective(True) or effective(False)
        return max(candidates, key=lambda t: (t.effective_date, t.version), default=None)


def _clash(a: SopTemplate, b: SopTemplate) -> str | None:
    """Why `b` cannot live next to `a`, or None."""
    if a.id == b.id and a.version == b.version:
        return f'模板 "{b.id}" 第 {b.version} 版已在 {a.source} 中定义'
    if a.id == b.id and (a.after_sales_type != b.after_sales_type or a.platforms != b.platforms):
        return f'模板 "{b.id}" 的各版本必须是同一售后类型和平台（与 {a.source} 不一致）'
    same_scope = bool(a.platforms & b.platforms) or not (a.platforms or b.platforms)
    same_slot = a.after_sales_type == b.after_sales_type and a.effective_date == b.effective_date
    if a.id != b.id and same_scope and same_slot:
        label = AFTER_SALES_TYPE_LABELS[b.after_sales_type]
        return f"与 {a.source} 适用同一售后类型（{label}）和平台且生效日期相同，无法确定用哪个"
    return None


def load_sop_templates(texts: Mapping[str, str]) -> SopRegistry:
    """Parse and cross-check every template file (`{file name: text}`); the first problem is raised."""
    templates: list[SopTemplate] = []
    for source in sorted(texts):
        template = parse_sop_template(texts[source], source)
        for other in templates:
            if reason := _clash(other, template):
                line = index_lines(texts[source]).get(("id",))
                raise DataFileError(kind="模板", source=source, line=line, field="id", reason=reason)
        templates.append(template)
    return SopRegistry(tuple(templates))
