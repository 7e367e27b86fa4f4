"""The screening normaliser: idempotent, total on arbitrary Unicode, ASCII words out."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from kyc.names import has_mixed_script_words, name_keys, normalize_name
from kyc.screening import name_score

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=200)
NAMEISH = st.text(
    st.characters(whitelist_categories=("Lu", "Ll", "Lo", "Mn", "Zs", "Cf", "Pd")), max_size=60
)


@settings(max_examples=500, deadline=None)
@given(ANY_TEXT)
def test_normalize_never_raises_and_is_idempotent(text: str) -> None:
    once = normalize_name(text)
    assert normalize_name(once) == once
    assert re.fullmatch(r"(?:[a-z0-9]+(?: [a-z0-9]+)*)?", once)


@settings(max_examples=300, deadline=None)
@given(NAMEISH)
def test_keys_are_normal_forms(text: str) -> None:
    keys = name_keys(text)
    assert normalize_name(text) in keys
    for key in keys:
        assert normalize_name(key) == key
    has_mixed_script_words(text)


@settings(max_examples=200, deadline=None)
@given(NAMEISH, NAMEISH)
def test_score_is_bounded_and_symmetric_in_identity(a: str, b: str) -> None:
    score = name_score(a, b)
    assert 0.0 <= score <= 100.0
    if normalize_name(a):
        assert name_score(a, a) == 100.0


@given(
    st.text(st.sampled_from("\u200b\u200c\u200d\u2060\ufeff\u00ad\u202a\u202e\u2066"), max_size=5)
)
def test_invisible_characters_vanish(noise: str) -> None:
    assert normalize_name(f"Jo{noise}hn Sm{noise}ith") == "john smith"


def test_examples() -> None:
    assert normalize_name("Ｊｏｈｎ  ＳＭＩＴＨ") == "john smith"
    assert normalize_name("O'Brien-Smith") == "o brien smith"
    assert normalize_name("Strauß") == "strauss"
    assert normalize_name("Ǆordje") == "dzordje"
    assert normalize_name("Pаvel") == "pavel"  # Cyrillic а folded in a Latin word
    assert normalize_name("Павел") == "pavel"  # transliterated as a Cyrillic word
    assert has_mixed_script_words("Pаvel") and not has_mixed_script_words("Павел")
    assert "tom" in name_keys("Тоm") and "tom" in name_keys("Том")
