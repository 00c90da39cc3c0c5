from __future__ import annotations

import pytest

from dyy_desk.core.search.resources import SearchResourceError, parse_synonyms, parse_user_dict


def test_user_dict_parses_word_freq_and_tag() -> None:
    words = parse_user_dict("# 注释\n运费险 20000 n\n以旧换新\n")
    assert [(w.word, w.freq, w.tag) for w in words] == [("运费险", 20000, "n"), ("以旧换新", None, None)]


def test_user_dict_error_names_the_line_of_a_bad_frequency() -> None:
    with pytest.raises(SearchResourceError) as info:
        parse_user_dict("仅退款 100 v\n\n价保 很多 n\n", "user_dict.txt")
    assert info.value.line == 3
    assert "user_dict.txt 第 3 行" in str(info.value)
    assert "很多" in str(info.value)


def test_user_dict_rejects_duplicates_naming_both_lines() -> None:
    with pytest.raises(SearchResourceError) as info:
        parse_user_dict("补发 10\n漏发 10\n补发 20\n")
    assert info.value.line == 3
    assert "第 1 行" in info.value.reason


def test_synonyms_fold_variants_to_the_normalised_canonical() -> None:
    mapping, stop = parse_synonyms(
        '[synonyms]\n"退款" = ["退錢", "ＲＥＦＵＮＤ"]\n[stopwords]\nwords = ["的"]\n'
    )
    assert mapping == {"退钱": "退款", "refund": "退款"}
    assert stop == frozenset({"的"})


def test_synonym_variant_in_two_groups_names_the_second_line() -> None:
    text = '[synonyms]\n"退款" = ["退钱"]\n"物流" = ["快递"]\n"赔偿" = ["退钱"]\n'
    with pytest.raises(SearchResourceError) as info:
        parse_synonyms(text, "synonyms.toml")
    assert info.value.line == 4
    assert "synonyms.toml 第 4 行" in str(info.value)


def test_toml_syntax_error_names_the_line() -> None:
    with pytest.raises(SearchResourceError) as info:
        parse_synonyms('[synonyms]\n"退款" = ["退钱"]\n"物流" = ["快递"\n')
    assert info.value.line == 3


def test_canonical_that_is_another_groups_variant_is_rejected() -> None:
    with pytest.raises(SearchResourceError) as info:
        parse_synonyms('[synonyms]\n"退款" = ["退钱"]\n"退钱" = ["返钱"]\n')
    assert info.value.line == 3
