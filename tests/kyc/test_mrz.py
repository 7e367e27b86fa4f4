"""MRZ parsing edge cases, date resolution and comparison with declared data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from errors import InvalidInput
from kyc.mrz import (
    DeclaredIdentity,
    InvalidMrz,
    check_digit,
    compare_mrz,
    mrz_name_field,
    parse_mrz,
    resolve_birth_date,
    resolve_expiry_date,
)

TD3 = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
TD1 = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
]
TD2 = ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"]

SPECIMEN_HOLDER = DeclaredIdentity(
    family_names="Eriksson",
    given_names="Anna Maria",
    birthdate=date(1974, 8, 12),
    document_number="L898902C3",
    expiry_date=date(2012, 4, 15),
    nationality="UTO",
    issuing_state="UTO",
    document_type="passport",
)


def _line2(lines: list[str], line2: str) -> list[str]:
    return [lines[0], line2, *lines[2:]]


@pytest.mark.parametrize(
    "lines",
    [
        [],
        ["P<UTO"],
        TD3[:1],
        [*TD3, TD3[0]],
        [TD3[0], TD3[1][:-1]],
        [TD3[0].lower(), TD3[1]],
        [TD3[0], TD3[1].replace("<", " ")],
        [TD3[0], TD3[1][:-1] + "é"],
        [TD1[0], TD1[1], TD1[2] + "<"],
        [TD3[0], 42],
        "not an mrz",
        None,
        [TD3[0], TD3[1] * 100],
    ],
    ids=range(13),
)
def test_malformed_mrz_raises_invalid_input(lines: object) -> None:
    with pytest.raises(InvalidMrz) as info:
        parse_mrz(lines)
    assert isinstance(info.value, InvalidInput)
    assert info.value.code == "invalid_mrz"


def test_one_string_with_newlines_is_accepted() -> None:
    assert parse_mrz("\n".join(TD3)).valid


@pytest.mark.parametrize(
    "lines,field",
    [
        (_line2(TD3, "L898902C37UTO7408122F1204159ZE184226B<<<<<10"), "document_number"),
        (_line2(TD3, "L898902C36UTO7408123F1204159ZE184226B<<<<<10"), "birth_date"),
        (_line2(TD3, "L898902C36UTO7408122F1204158ZE184226B<<<<<10"), "expiry_date"),
        (_line2(TD3, "L898902C36UTO7408122F1204159ZE184226B<<<<<20"), "optional_data"),
        (_line2(TD3, "L898902C36UTO7408122F1204159ZE184226B<<<<<11"), "composite"),
        (_line2(TD1, "7408122F1204159UTO<<<<<<<<<<<7"), "composite"),
        (_line2(TD2, "D231458907UTO7408122F1204159<<<<<<<7"), "composite"),
    ],
)
def test_a_wrong_check_digit_is_named(lines: list[str], field: str) -> None:
    mrz = parse_mrz(lines)
    assert not mrz.valid
    assert field in mrz.failed_checks


def test_unused_optional_data_may_carry_a_filler_check_digit() -> None:
    data = "L898902C36UTO7408122F1204159<<<<<<<<<<<<<<"
    for optional_cd in "<0":
        body = data[:42] + optional_cd
        line2 = body + check_digit(body[0:10] + body[13:20] + body[21:43])
        assert parse_mrz([TD3[0], line2]).valid, optional_cd


def test_letters_in_a_date_are_a_problem_even_when_digits_agree() -> None:
    # "A" has value 10: same check digit as "0", so only the form check sees it.
    line2 = "L898902C36UTO74A8122F1204159ZE184226B<<<<<10"
    mrz = parse_mrz([TD3[0], line2])
    assert "birth_date_not_digits" in mrz.problems
    assert not mrz.valid


def test_impossible_dates_and_sex_are_problems() -> None:
    body = "L898902C36UTO741312" + "Q" + "1204159ZE184226B<<<<<1"
    body = body[:13] + "741312" + check_digit("741312") + "Q" + body[20:]
    mrz = parse_mrz([TD3[0], body[:43] + check_digit(body[0:10] + body[13:20] + body[21:43])])
    assert "birth_date_impossible" in mrz.problems
    assert "sex_invalid" in mrz.problems


def test_names_are_split_on_double_filler() -> None:
    mrz = parse_mrz(TD3)
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")


def test_dates_resolve_around_today() -> None:
    today = date(2026, 10, 1)
    assert resolve_birth_date("740812", today) == date(1974, 8, 12)
    assert resolve_birth_date("051231", today) == date(2005, 12, 31)
    assert resolve_birth_date("261002", today) == date(1926, 10, 2)  # not in the future
    assert resolve_birth_date("7408<<", today) is None
    assert resolve_expiry_date("120415", today) == date(2012, 4, 15)
    assert resolve_expiry_date("360101", today) == date(2036, 1, 1)
    assert resolve_expiry_date("991301", today) is None


def test_specimen_agrees_with_its_visual_zone() -> None:
    comparisons = compare_mrz(parse_mrz(TD3), SPECIMEN_HOLDER)
    assert all(c.ok for c in comparisons), comparisons


def test_td1_specimen_agrees_as_an_id_card() -> None:
    declared = replace(SPECIMEN_HOLDER, document_number="D23145890", document_type="id_card")
    assert all(c.ok for c in compare_mrz(parse_mrz(TD1), declared))
    assert all(c.ok for c in compare_mrz(parse_mrz(TD2), declared))


@pytest.mark.parametrize(
    "change,field",
    [
        ({"family_names": "Eriksen"}, "surname"),
        ({"given_names": "Anna"}, "given_names"),
        ({"birthdate": date(1974, 8, 13)}, "birth_date"),
        ({"birthdate": date(1874, 8, 12)}, None),  # same YYMMDD: the MRZ cannot tell
        ({"expiry_date": date(2032, 4, 15)}, "expiry_date"),
        ({"document_number": "L898902C4"}, "document_number"),
        ({"nationality": "SE"}, "nationality"),
        ({"issuing_state": "SE"}, "issuing_state"),
        ({"document_type": "id_card"}, "document_type"),
    ],
)
def test_each_mismatch_with_declared_data_is_detected(change: dict, field: str | None) -> None:
    comparisons = compare_mrz(parse_mrz(TD3), replace(SPECIMEN_HOLDER, **change))
    failed = {c.field for c in comparisons if not c.ok}
    if field is None:
        assert failed == set()
    else:
        assert field in failed
        assert all(c.reason == f"{c.field}_mismatch" for c in comparisons if not c.ok)


def test_declared_names_are_transliterated_the_icao_way() -> None:
    assert mrz_name_field("Müller", "Jürgen", 20) == "MUELLER<<JUERGEN<<<<"
    assert mrz_name_field("Müller", "Jürgen", 20, expand=False) == "MULLER<<JURGEN<<<<<<"
    assert mrz_name_field("O'Brien-Smith", "Seán", 30) == "OBRIEN<SMITH<<SEAN<<<<<<<<<<<<"
    assert mrz_name_field("Strauß", "Łukasz", 15) == "STRAUSS<<LUKASZ"


def test_german_passport_holder_matches_both_umlaut_forms() -> None:
    body = "C01X00T478D<<6408125M2702283<<<<<<<<<<<<<<<"
    body = body[:43] + check_digit(body[0:10] + body[13:20] + body[21:43])
    for name_field in ("MUELLER<<JUERGEN", "MULLER<<JURGEN"):
        line1 = ("P<D<<" + name_field).ljust(44, "<")
        mrz = parse_mrz([line1, body])
        declared = DeclaredIdentity(
            family_names="Müller",
            given_names="Jürgen",
            birthdate=date(1964, 8, 12),
            document_number="C01X00T47",
            expiry_date=date(2027, 2, 28),
            nationality="DE",
            issuing_state="DE",
            document_type="passport",
        )
        assert [c.field for c in compare_mrz(mrz, declared) if not c.ok] == [], name_field


def test_truncated_names_compare_on_what_fits() -> None:
    family, given = "Wolfeschlegelsteinhausenbergerdorff", "Hubert Blaine"
    line1 = "P<UTO" + mrz_name_field(family, given, 39)
    assert line1[-1] != "<"  # the name filled the field
    mrz = parse_mrz([line1, TD3[1]])
    declared = replace(SPECIMEN_HOLDER, family_names=family, given_names=given)
    assert [c.field for c in compare_mrz(mrz, declared) if not c.ok] == []
