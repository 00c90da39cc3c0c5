from __future__ import annotations

from dyy_desk.core.search.normalise import normalise, normalise_shortcut, shortcut_code


def test_full_width_letters_and_digits_become_half_width_lower_case() -> None:
    assert normalise("ＳＦ快递７天") == "sf快递7天"


def test_traditional_characters_become_simplified() -> None:
    assert normalise("退貨退款運費險") == "退货退款运费险"


def test_emoji_and_punctuation_become_single_spaces() -> None:
    assert normalise("退款！！😡 到账了吗？？") == "退款 到账了吗"


def test_decimal_point_survives_between_digits_only() -> None:
    assert normalise("1.5米的床。") == "1.5米的床"


def test_shortcut_code_detects_half_and_full_width_slash() -> None:
    assert shortcut_code("/thh") == "thh"
    assert shortcut_code("／ＴＨＨ") == "thh"
    assert shortcut_code("退款/换货") is None
    assert normalise_shortcut("/THH") == "thh"


def test_variant_characters_t2s_leaves_are_folded() -> None:
    # OpenCC t2s keeps 著, 衹 and 帳 (valid simplified characters too); Taiwan text means 着, 只, 账.
    assert normalise("看著急，衹有帳號登不上") == "看着急 只有账号登不上"
    assert normalise("著急") == normalise("着急")
