"""Screening: listed names are caught through spelling, script and Unicode tricks; attributes
move scores; unrelated people are clear."""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import date

import pytest

from kyc.screening import (
    Match,
    ScreeningConfig,
    ScreeningOutcome,
    ScreeningSubject,
    WatchlistEntry,
    WatchlistIndex,
    name_score,
    screen,
)
from tests.kyc.builders import sample_index

IVAN = date(1961, 3, 4)
HIT, POSSIBLE, CLEAR = (
    ScreeningOutcome.HIT,
    ScreeningOutcome.POSSIBLE_MATCH,
    ScreeningOutcome.CLEAR,
)


def _screen(name: str, birthdate: date | None = None, *countries: str):
    return sample_index().screen(ScreeningSubject((name,), birthdate, countries))


@pytest.mark.parametrize(
    "name",
    [
        "Ivan Petrovich Sidorenko",  # exact
        "IVAN PETROVICH SIDORENKO",  # case
        "Sidorenko Ivan Petrovich",  # reordered
        "Sidorenko, Ivan",  # reordered, middle name missing
        "Иван Петрович Сидоренко",  # Cyrillic, as listed in the alias
        "Иван Сидоренко",  # Cyrillic, transliterated against the Latin name
        "Ivаn Sidоrenko",  # Cyrillic а and о inside Latin words (homoglyphs)
        "Ιvan Sidorenko",  # Greek capital iota
        "I\u200bvan Sido\u200drenko",  # zero-width space and joiner
        "Iv\u00adan Sidor\ufeffenko",  # soft hyphen, BOM
        "Ｉｖａｎ Ｓｉｄｏｒｅｎｋｏ",  # fullwidth
        "Ivan Sidorenko\u202e",  # bidi override
        "I. P. Sidorenko",  # initials
        "Ivan Sydorenko",  # alias spelling
        "Iwan Sidorenko",  # one-letter variation
    ],
)
def test_variants_of_a_listed_name_are_hits(name: str) -> None:
    result = _screen(name, IVAN, "RU")
    assert result.outcome is HIT, result
    assert result.matches[0].entry.id == "sample-os-0001"


@pytest.mark.parametrize(
    "name", ["Hans-Dieter Müller", "Hans Dieter Mueller", "Hans Dieter Muller", "Müller Hans"]
)
def test_diacritics_and_umlaut_spellings(name: str) -> None:
    result = _screen(name, date(1958, 11, 23), "DE")
    assert result.outcome is HIT
    assert result.matches[0].entry.id == "sample-os-0002"


def test_mueller_muller_mueller_compare_equal() -> None:
    assert name_score("Müller", "Mueller") == 100.0
    assert name_score("Müller", "Muller") == 100.0
    assert name_score("Mueller", "Muller") > 90


def test_transliterated_cyrillic_public_figure() -> None:
    assert name_score("Владимир Путин", "Vladimir Putin") == 100.0
    assert name_score("Vladimir Putin", "Путин Владимир") == 100.0


@pytest.mark.parametrize(
    "name,birthdate,country,entry",
    [
        ("李晓明", date(1975, 5, 5), "CN", "sample-os-0006"),  # CJK, spaced syllables
        ("Li Xiao Ming", date(1975, 5, 5), "CN", "sample-os-0006"),
        ("권상철", date(1968, 7, 21), "KP", "unsc-9000001"),  # Hangul original script
        ("Kwon Sang-chol", date(1968, 7, 21), "KP", "unsc-9000001"),
        ("Ahmed Karimi", date(1969, 5, 1), "IR", "sample-os-0007"),  # alias; year match
        ("Abdulrahman Yusuf Al-Samari", date(1975, 1, 1), "IQ", "unsc-9000002"),
        ("Jean Baptiste Nkurunziza Mbeki", date(1971, 6, 1), "CD", "unsc-9000003"),
        ("Olena Kovalenko Shevchuk", date(1984, 7, 14), "PL", "sample-os-0009"),
    ],
)
def test_scripts_aliases_and_un_entries(
    name: str, birthdate: date, country: str, entry: str
) -> None:
    result = _screen(name, birthdate, country)
    assert result.outcome is HIT
    assert result.matches[0].entry.id == entry


def test_pep_alias_in_greek_is_a_match_for_review_not_a_hit() -> None:
    result = _screen("Νίκος Παπαδάκης", date(1966, 5, 1), "GR")
    assert result.outcome is POSSIBLE  # FATF R.12: enhanced due diligence, not refusal
    assert result.matches[0].entry.topics == ("role.pep",)
    assert "pep_match" in result.matches[0].reasons
    assert result.matches[0].score >= ScreeningConfig().hit_threshold


def test_initial_and_surname() -> None:
    result = _screen("J. Smith", date(1970, 1, 1), "GB")
    assert result.outcome is HIT
    assert result.matches[0].entry.id == "sample-os-0003"


def test_birthdate_raises_and_lowers_the_score() -> None:
    config = ScreeningConfig(review_threshold=1.0)  # keep weak matches visible

    def best(birthdate: date | None) -> Match:
        subject = ScreeningSubject(("Jon Smyth",), birthdate)
        return sample_index().screen(subject, config).matches[0]

    same, unknown, other = best(date(1970, 1, 1)), best(None), best(date(1985, 6, 1))
    assert same.entry.id == unknown.entry.id == other.entry.id == "sample-os-0003"
    assert same.score > unknown.score > other.score
    assert "birthdate_match" in same.reasons and "birthdate_mismatch" in other.reasons
    year_only = _screen("Ahmad Karimi Tabrizi", date(1970, 12, 31)).matches[0]
    assert "birthyear_match" in year_only.reasons


def test_nationality_raises_and_lowers_the_score() -> None:
    same = _screen("John Smith", None, "GB").matches[0]
    other = _screen("John Smith", None, "US").matches[0]
    assert same.score > other.score


def test_common_name_with_other_birthdate_and_nationality_is_not_a_hit() -> None:
    result = _screen("John Smith", date(1985, 6, 1), "US")
    assert result.outcome is not HIT
    assert result.outcome is POSSIBLE  # an exact name still reaches an officer


def test_a_name_alone_never_rejects() -> None:
    result = _screen("Ivan Petrovich Sidorenko")
    assert result.outcome is POSSIBLE
    assert "uncorroborated_name_match" in result.matches[0].reasons
    strict = sample_index().screen(
        ScreeningSubject(("Ivan Petrovich Sidorenko",)),
        ScreeningConfig(hit_requires_corroboration=False),
    )
    assert strict.outcome is HIT


@pytest.mark.parametrize(
    "name,birthdate,country",
    [
        ("Anna Maria Eriksson", date(1974, 8, 12), "SE"),
        ("Peter Jones", date(1990, 1, 1), "GB"),
        ("Mario Garza", date(1990, 1, 1), "MX"),
        ("Ivana Sidorova", date(1990, 1, 1), "RU"),
        ("Hans Schmidt", date(1958, 11, 23), "DE"),
    ],
)
def test_clear_non_matches(name: str, birthdate: date, country: str) -> None:
    result = _screen(name, birthdate, country)
    assert result.outcome is CLEAR, result.matches
    assert result.matches == ()


def test_result_names_the_lists_and_versions() -> None:
    result = _screen("Peter Jones")
    assert ("opensanctions", "2026-09-15") in result.lists
    assert ("un-sc-consolidated", "2026-09-15T23:00:00.000Z") in result.lists


def test_thresholds_are_configurable() -> None:
    subject = ScreeningSubject(("Mario Garcia",))
    assert sample_index().screen(subject).outcome is POSSIBLE
    strict = ScreeningConfig(review_threshold=90.0, hit_threshold=95.0)
    assert screen(subject, sample_index(), strict).outcome is CLEAR


def test_empty_and_garbage_names_are_clear() -> None:
    for name in ["", "   ", "\u200b\u200b", "!!!", "\x00"]:
        assert _screen(name).outcome is CLEAR


def _synthetic_entries(count: int, seed: int = 7) -> list[WatchlistEntry]:
    rng = random.Random(seed)
    syllables = ["ka", "lo", "mi", "ra", "ten", "bor", "vic", "sha", "nu", "dre", "pol", "zan"]

    def word() -> str:
        return "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))).capitalize()

    return [
        WatchlistEntry(
            id=f"syn-{i}",
            name=f"{word()} {word()} {word()}",
            aliases=(f"{word()} {word()}",),
            birth_dates=(f"{rng.randint(1940, 2000)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",),
            nationalities=(rng.choice(["RU", "IR", "KP", "SY", "GB", "US"]),),
            list_name="synthetic",
            list_version="1",
        )
        for i in range(count)
    ]


def test_index_screens_a_large_list_quickly() -> None:
    entries = _synthetic_entries(50_000)
    target = replace(entries[31_337], name="Ivan Petrovich Sidorenko")
    entries[31_337] = target
    index = WatchlistIndex(entries)
    subjects = [ScreeningSubject(("Anna Maria Eriksson",), date(1974, 8, 12), ("SE",))] * 5
    subjects.append(ScreeningSubject(("Sidorenko Ivan",), None, ()))
    start = time.perf_counter()
    results = [index.screen(s) for s in subjects]
    per_screening = (time.perf_counter() - start) / len(subjects)
    assert results[-1].matches[0].entry.id == target.id
    assert per_screening < 0.5, per_screening


def test_a_sanctioned_pep_is_still_a_hit() -> None:
    entry = WatchlistEntry(
        id="p1",
        name="Maria Jose Garcia",
        birth_dates=("1980-02-29",),
        nationalities=("ES",),
        topics=("role.pep", "sanction"),
    )
    index = WatchlistIndex([entry, replace(entry, id="p2", topics=("role.pep",))])
    result = index.screen(ScreeningSubject(("María José García",), date(1980, 2, 29), ("ES",)))
    assert result.outcome is HIT
    assert {m.entry.id: m.outcome for m in result.matches} == {"p1": HIT, "p2": POSSIBLE}
