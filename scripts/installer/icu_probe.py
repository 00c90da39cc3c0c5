"""Print, as JSON, the answers of every Qt feature that reads ICU data on Linux.

    LD_PRELOAD=build/icu/libicudata.so.73 .venv/bin/python scripts/installer/icu_probe.py

Run once with Qt's own libicudata and once with the trimmed one preloaded (the dynamic linker then
satisfies QtCore's libicudata.so.NN with it): equal output means the trim removed nothing Qt reads.
Covers what QtCore imports from ICU (see icu_data.QT_ICU_FAMILIES): collation in several locales, legacy
codecs (opened by name, the Chinese ones first), time-zone ids and names, and locale-aware case mapping.
"""

from __future__ import annotations

import functools
import json

from PySide6.QtCore import QByteArray, QCollator, QLocale, QStringConverter, QStringDecoder, QTimeZone

WORDS = ["张三", "李四", "王五", "阿", "中国", "北京", "上海", "退货", "退款", "Zebra", "apple",
         "Äpfel", "ångström", "öl", "İstanbul", "ß", "10", "9", "ち", "カ"]  # fmt: skip
LOCALES = ["zh_CN", "zh_TW", "en_US", "de_DE", "sv_SE", "tr_TR", "ja_JP", "ko_KR", "fr_FR", "ru_RU"]
CODECS = ["GB18030", "GBK", "GB2312", "Big5", "Big5-HKSCS", "Shift_JIS", "EUC-JP", "EUC-KR", "windows-1252",
          "ISO-8859-15", "KOI8-R", "IBM437"]  # fmt: skip
ZONES = [b"Asia/Shanghai", b"Asia/Hong_Kong", b"Asia/Taipei", b"Europe/Berlin", b"America/New_York", b"PRC"]


def probe() -> dict[str, object]:
    answers: dict[str, object] = {}
    for name in LOCALES:
        collator = QCollator(QLocale(name))
        answers[f"sort {name}"] = sorted(WORDS, key=functools.cmp_to_key(collator.compare))
        collator.setNumericMode(True)
        answers[f"numeric sort {name}"] = sorted(WORDS, key=functools.cmp_to_key(collator.compare))
        locale = QLocale(name)
        answers[f"case {name}"] = [locale.toUpper("istanbul straße ǆ"), locale.toLower("İSTANBUL ΣΑΣ")]
    for codec in CODECS:  # opening a codec loads its conversion table (PySide6 cannot call decode)
        decoder = QStringDecoder(codec)
        answers[f"codec {codec}"] = [decoder.isValid(), decoder.name(), decoder.requiredSpace(100)]
    answers["codecs available"] = len(QStringConverter.availableCodecs())
    for zone_id in ZONES:
        zone = QTimeZone(QByteArray(zone_id))
        names = []
        for language in ("zh_CN", "en_US", "de_DE"):
            for kind in (QTimeZone.TimeType.StandardTime, QTimeZone.TimeType.DaylightTime):
                for style in (QTimeZone.NameType.LongName, QTimeZone.NameType.ShortName):
                    names.append(zone.displayName(kind, style, QLocale(language)))
        answers[f"zone {zone_id.decode()}"] = [zone.isValid(), bytes(zone.id().data()).decode(), names]
    return answers


if __name__ == "__main__":
    print(json.dumps(probe(), ensure_ascii=False, sort_keys=True))
