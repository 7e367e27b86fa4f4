"""ICAO Doc 9303 machine readable zones: TD1 (Part 5), TD2 (Part 6) and TD3 (Part 4).

Layouts (0-based slices; ``cd`` = check digit)::

    TD1  line 1  [0:2] code  [2:5] issuing state  [5:14] document number  [14] cd
                 [15:30] optional data 1
         line 2  [0:6] birth date  [6] cd  [7] sex  [8:14] expiry  [14] cd
                 [15:18] nationality  [18:29] optional data 2  [29] composite cd
                 composite over line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
         line 3  [0:30] name
    TD2  line 1  [0:2] code  [2:5] issuing state  [5:36] name
         line 2  [0:9] document number  [9] cd  [10:13] nationality  [13:19] birth date
                 [19] cd  [20] sex  [21:27] expiry  [27] cd  [28:35] optional data
                 [35] composite cd over line2[0:10] + line2[13:20] + line2[21:35]
    TD3  line 1  [0:2] code  [2:5] issuing state  [5:44] name
         line 2  as TD2 up to [27]; [28:42] personal number / optional data  [42] its cd
                 [43] composite cd over line2[0:10] + line2[13:20] + line2[21:43]

Check digits (Part 3 §4.9): characters valued ``0``-``9`` -> 0-9, ``A``-``Z`` -> 10-35,
``<`` -> 0, weighted 7, 3, 1 repeating, sum mod 10. A document number longer than nine characters
(TD1, TD2; Part 5 §4.2.2 note j, Part 6 note j) puts ``<`` in the check-digit position and
continues in the optional data, followed by its check digit and a filler.

Names (Part 3 §4.6): primary and secondary identifiers separated by ``<<``, ``<`` between
name components, fillers at the end; a name longer than the field is cut.

The scheme cannot see every error: a substitution that changes a character's value by a multiple
of 10 (``0``/``A``/``K``/``U``, ``<``/``0``) leaves every check digit unchanged. Dates are also
checked to be digits, which closes that gap in the date fields.

Malformed input (wrong number or length of lines, characters outside ``A-Z0-9<``) raises
``InvalidMrz``; a well-formed MRZ with a wrong check digit is returned with ``valid == False``
and the failing checks named, since that is an expected finding about a document.

    >>> mrz = parse_mrz(["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    ...                  "L898902C36UTO7408122F1204159ZE184226B<<<<<10"])
    >>> mrz.format, mrz.surname, mrz.given_names, mrz.document_number, mrz.valid
    (<MrzFormat.TD3: 'TD3'>, 'ERIKSSON', 'ANNA MARIA', 'L898902C3', True)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from anyascii import anyascii

from errors import InvalidValue
from kyc.countries import icao_to_alpha2

__all__ = [
    "CheckDigit",
    "DeclaredIdentity",
    "FieldComparison",
    "InvalidMrz",
    "Mrz",
    "MrzFormat",
    "check_digit",
    "compare_mrz",
    "mrz_name_field",
    "parse_mrz",
    "resolve_birth_date",
    "resolve_expiry_date",
]


class InvalidMrz(InvalidValue):
    """MRZ lines that are not an MRZ at all: wrong line count or length, or foreign characters."""

    code = "invalid_mrz"


class MrzFormat(StrEnum):
    TD1 = "TD1"
    TD2 = "TD2"
    TD3 = "TD3"


_LAYOUTS = {(3, 30): MrzFormat.TD1, (2, 36): MrzFormat.TD2, (2, 44): MrzFormat.TD3}
_LINE_RE = re.compile(r"[A-Z0-9<]+")
_MAX_INPUT_LINE = 64  # longest accepted line before any interpretation


def _value(char: str) -> int:
    if char == "<":
        return 0
    if "0" <= char <= "9":
        return ord(char) - ord("0")
    return ord(char) - ord("A") + 10


def check_digit(data: str) -> str:
    """The Doc 9303 Part 3 §4.9 check digit of ``data`` (characters ``A-Z0-9<``).

    >>> check_digit("L898902C3"), check_digit("740812"), check_digit("<<<<<<<<<<<<<<")
    ('6', '2', '0')
    """
    weights = (7, 3, 1)
    return str(sum(_value(c) * weights[i % 3] for i, c in enumerate(data)) % 10)


@dataclass(frozen=True, slots=True)
class CheckDigit:
    """One check digit: the field it covers, the digit printed and whether it verifies."""

    field: str
    printed: str
    computed: str
    ok: bool


@dataclass(frozen=True, slots=True)
class Mrz:
    """A parsed MRZ. Dates are kept as printed (``YYMMDD``); see ``resolve_*_date``."""

    format: MrzFormat
    lines: tuple[str, ...]
    document_code: str
    issuing_state: str
    surname: str
    given_names: str
    name_field: str
    document_number: str
    nationality: str
    birth_date: str
    sex: str
    expiry_date: str
    optional_data: str
    optional_data_2: str
    checks: tuple[CheckDigit, ...]
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        """Every check digit verifies and every field has its required form."""
        return not self.problems and all(c.ok for c in self.checks)

    @property
    def failed_checks(self) -> tuple[str, ...]:
        return tuple(c.field for c in self.checks if not c.ok)


def _check(field: str, data: str, printed: str, *, filler_allowed: bool = False) -> CheckDigit:
    computed = check_digit(data)
    if printed == "<" and filler_allowed and set(data) <= {"<"}:
        # Part 4 §4.2.2 note: an unused optional data field may carry "<" as its check digit.
        return CheckDigit(field, printed, computed, True)
    return CheckDigit(field, printed, computed, printed == computed)


def _split_name(field: str) -> tuple[str, str]:
    primary, _, secondary = field.partition("<<")
    return (
        " ".join(primary.replace("<", " ").split()),
        " ".join(secondary.replace("<", " ").split()),
    )


def _date_problems(label: str, value: str) -> list[str]:
    if re.fullmatch(r"[0-9]{6}", value) is None:
        # Part 3: an unknown month and/or day of birth is written as fillers ("7408<<",
        # "74<<<<", or "<<<<<<" when unknown); any other filler is malformed.
        if label == "birth_date" and re.fullmatch(r"<<<<<<|[0-9]{2}<<<<|[0-9]{4}<<", value):
            return []
        return [f"{label}_not_digits"]
    month, day = int(value[2:4]), int(value[4:6])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return [f"{label}_impossible"]
    return []


def _lines(lines: object) -> tuple[str, ...]:
    if isinstance(lines, str):
        lines = lines.split()
    if not isinstance(lines, (list, tuple)):
        raise InvalidMrz("MRZ must be a list of lines")
    if not 2 <= len(lines) <= 3:
        raise InvalidMrz("MRZ must have 2 (TD2, TD3) or 3 (TD1) lines")
    out = []
    for line in lines:
        if not isinstance(line, str):
            raise InvalidMrz("MRZ lines must be strings")
        if len(line) > _MAX_INPUT_LINE:
            raise InvalidMrz("MRZ line too long")
        if _LINE_RE.fullmatch(line) is None:
            raise InvalidMrz("MRZ lines hold only A-Z, 0-9 and '<'")
        out.append(line)
    return tuple(out)


def parse_mrz(lines: object) -> Mrz:
    """Parse 2 or 3 MRZ lines (a list, or one string with lines separated by whitespace)."""
    text = _lines(lines)
    fmt = _LAYOUTS.get((len(text), len(text[0])))
    if fmt is None or any(len(line) != len(text[0]) for line in text):
        raise InvalidMrz("MRZ lines must be 3x30 (TD1), 2x36 (TD2) or 2x44 (TD3)")
    if fmt is MrzFormat.TD1:
        return _parse_td1(text)
    return _parse_td2_td3(text, fmt)


def _parse_td1(text: tuple[str, ...]) -> Mrz:
    l1, l2, l3 = text
    problems: list[str] = []
    number, number_cd, optional_1 = l1[5:14], l1[14], l1[15:30]
    checks: list[CheckDigit] = []
    if number_cd == "<" and optional_1[0] != "<":
        # Extended document number: the rest and its check digit lead optional data 1.
        rest = optional_1.split("<", 1)[0]
        if len(rest) < 2:
            problems.append("document_number_extension_malformed")
            full_number = number
        else:
            full_number = number + rest[:-1]
            checks.append(_check("document_number", full_number, rest[-1]))
        optional_1 = optional_1[len(rest) :]
    else:
        full_number = number
        checks.append(_check("document_number", number, number_cd))
    checks.append(_check("birth_date", l2[0:6], l2[6]))
    checks.append(_check("expiry_date", l2[8:14], l2[14]))
    checks.append(_check("composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29]))
    problems += _date_problems("birth_date", l2[0:6]) + _date_problems("expiry_date", l2[8:14])
    surname, given = _split_name(l3)
    return Mrz(
        format=MrzFormat.TD1,
        lines=text,
        document_code=l1[0:2].rstrip("<"),
        issuing_state=l1[2:5].rstrip("<"),
        surname=surname,
        given_names=given,
        name_field=l3,
        document_number=full_number.rstrip("<"),
        nationality=l2[15:18].rstrip("<"),
        birth_date=l2[0:6],
        sex=l2[7],
        expiry_date=l2[8:14],
        optional_data=optional_1.strip("<"),
        optional_data_2=l2[18:29].strip("<"),
        checks=tuple(checks),
        problems=tuple(problems + _sex_problems(l2[7])),
    )


def _sex_problems(sex: str) -> list[str]:
    return [] if sex in {"M", "F", "X", "<"} else ["sex_invalid"]


def _parse_td2_td3(text: tuple[str, ...], fmt: MrzFormat) -> Mrz:
    l1, l2 = text
    problems: list[str] = []
    checks: list[CheckDigit] = []
    number, number_cd = l2[0:9], l2[9]
    optional = l2[28:35] if fmt is MrzFormat.TD2 else l2[28:42]
    if fmt is MrzFormat.TD2 and number_cd == "<" and optional[0] != "<":
        rest = optional.split("<", 1)[0]
        if len(rest) < 2:
            problems.append("document_number_extension_malformed")
            full_number = number
        else:
            full_number = number + rest[:-1]
            checks.append(_check("document_number", full_number, rest[-1]))
        optional = optional[len(rest) :]
    else:
        full_number = number
        checks.append(_check("document_number", number, number_cd))
    checks.append(_check("birth_date", l2[13:19], l2[19]))
    checks.append(_check("expiry_date", l2[21:27], l2[27]))
    if fmt is MrzFormat.TD3:
        checks.append(_check("optional_data", l2[28:42], l2[42], filler_allowed=True))
        checks.append(_check("composite", l2[0:10] + l2[13:20] + l2[21:43], l2[43]))
    else:
        checks.append(_check("composite", l2[0:10] + l2[13:20] + l2[21:35], l2[35]))
    problems += _date_problems("birth_date", l2[13:19]) + _date_problems("expiry_date", l2[21:27])
    surname, given = _split_name(l1[5:])
    return Mrz(
        format=fmt,
        lines=text,
        document_code=l1[0:2].rstrip("<"),
        issuing_state=l1[2:5].rstrip("<"),
        surname=surname,
        given_names=given,
        name_field=l1[5:],
        document_number=full_number.rstrip("<"),
        nationality=l2[10:13].rstrip("<"),
        birth_date=l2[13:19],
        sex=l2[20],
        expiry_date=l2[21:27],
        optional_data=optional.strip("<"),
        optional_data_2="",
        checks=tuple(checks),
        problems=tuple(problems + _sex_problems(l2[20])),
    )


# --- dates ----------------------------------------------------------------------------------------


def _yymmdd(value: str, year: int) -> date | None:
    try:
        return date(year, int(value[2:4]), int(value[4:6]))
    except ValueError:
        return None


def resolve_birth_date(value: str, today: date) -> date | None:
    """``YYMMDD`` -> the latest date with those digits not after ``today``; None if unknown."""
    if re.fullmatch(r"[0-9]{6}", value) is None:
        return None
    yy = int(value[0:2])
    century = today.year - today.year % 100
    for year in (century + yy, century - 100 + yy):
        resolved = _yymmdd(value, year)
        if resolved is not None and resolved <= today:
            return resolved
    return None


def resolve_expiry_date(value: str, today: date) -> date | None:
    """``YYMMDD`` -> the date with those digits nearest to ``today`` (expiry is within decades)."""
    if re.fullmatch(r"[0-9]{6}", value) is None:
        return None
    yy = int(value[0:2])
    century = today.year - today.year % 100
    candidates = [
        d
        for year in (century - 100 + yy, century + yy, century + 100 + yy)
        if (d := _yymmdd(value, year)) is not None
    ]
    return min(candidates, key=lambda d: abs((d - today).days), default=None)


# --- comparison with declared data ----------------------------------------------------------------

# Doc 9303 Part 3 §6 (Table A: transliteration of Latin multinational characters). The first
# form is the recommended one; ICAO also allows dropping the diacritic (the second form).
_ICAO_LATIN = {
    "Ä": ("AE", "A"), "Å": ("AA", "A"), "Æ": ("AE",), "Ĳ": ("IJ",), "Ö": ("OE", "O"),
    "Ø": ("OE", "O"), "Œ": ("OE",), "ß": ("SS",), "Þ": ("TH",), "Ü": ("UE", "U"),
    "Ð": ("D",), "Ŀ": ("L",), "Ł": ("L",), "Ñ": ("N",),
}  # fmt: skip


def _to_mrz_chars(text: str, expand: bool) -> str:
    out = []
    for char in unicodedata.normalize("NFC", text).upper():
        forms = _ICAO_LATIN.get(char) or _ICAO_LATIN.get(char.upper())
        if forms:
            out.append(forms[0] if expand else forms[-1])
        elif "A" <= char <= "Z":
            out.append(char)
        elif char in " -‐‑,":
            out.append("<")  # Part 3 §4.6: spaces and hyphens become fillers
        elif char in "'’`":
            continue  # apostrophes are omitted
        else:
            ascii_ = anyascii(char).upper()
            out.append("".join(c for c in ascii_ if "A" <= c <= "Z") or "<")
    return re.sub("<+", "<", "".join(out)).strip("<")


def mrz_name_field(family: str, given: str, width: int, *, expand: bool = True) -> str:
    """The name field an issuer would print for these names (Part 3 §4.6), cut to ``width``.

    >>> mrz_name_field("Müller-Lüdenscheidt", "Jürgen", 30)
    'MUELLER<LUEDENSCHEIDT<<JUERGEN'
    """
    primary = _to_mrz_chars(family, expand)
    secondary = _to_mrz_chars(given, expand)
    field = primary + ("<<" + secondary if secondary else "")
    return field[:width].ljust(width, "<")


@dataclass(frozen=True, slots=True)
class DeclaredIdentity:
    """What the applicant declared, in the terms an MRZ can be compared with.

    ``nationality``/``issuing_state`` are alpha-2 codes, or ICAO codes for test specimens.
    """

    family_names: str
    given_names: str
    birthdate: date
    document_number: str
    expiry_date: date
    nationality: str
    issuing_state: str
    document_type: str  # "passport" | "id_card"


@dataclass(frozen=True, slots=True)
class FieldComparison:
    field: str
    ok: bool
    reason: str  # snake_case, no personal data


def _country_equal(mrz_code: str, declared: str) -> bool:
    if mrz_code == declared:
        return True
    alpha2 = icao_to_alpha2(mrz_code)
    return alpha2 is not None and alpha2 == declared


def _name_matches(mrz: Mrz, declared: DeclaredIdentity) -> bool:
    width = len(mrz.name_field)
    actual = mrz.name_field
    for expand in (True, False):
        expected = mrz_name_field(declared.family_names, declared.given_names, width, expand=expand)
        if expected == actual:
            return True
    return False


def _surname_matches(mrz: Mrz, declared: DeclaredIdentity) -> bool:
    return any(
        _to_mrz_chars(declared.family_names, expand).replace("<", " ") == mrz.surname
        or (
            mrz.name_field[-1] != "<"
            and _to_mrz_chars(declared.family_names, expand)
            .replace("<", " ")
            .startswith(mrz.surname)
        )
        for expand in (True, False)
    )


def compare_mrz(mrz: Mrz, declared: DeclaredIdentity) -> tuple[FieldComparison, ...]:
    """Compare every MRZ field with its declared value; one ``FieldComparison`` per field."""
    names_ok = _name_matches(mrz, declared)
    surname_ok = names_ok or _surname_matches(mrz, declared)
    number = re.sub(r"[\s-]", "", declared.document_number).upper()
    doc_type_ok = (
        mrz.format is MrzFormat.TD3 and mrz.document_code.startswith("P")
        if declared.document_type == "passport"
        else mrz.format in (MrzFormat.TD1, MrzFormat.TD2) and mrz.document_code[:1] in "IAC"
    )
    birth_ok = mrz.birth_date == declared.birthdate.strftime("%y%m%d")
    expiry_ok = mrz.expiry_date == declared.expiry_date.strftime("%y%m%d")
    nationality_ok = _country_equal(mrz.nationality, declared.nationality)
    issuer_ok = _country_equal(mrz.issuing_state, declared.issuing_state)
    results = [
        ("surname", surname_ok, "surname_mismatch"),
        ("given_names", names_ok, "given_names_mismatch"),
        ("birth_date", birth_ok, "birth_date_mismatch"),
        ("expiry_date", expiry_ok, "expiry_date_mismatch"),
        ("document_number", mrz.document_number == number, "document_number_mismatch"),
        ("nationality", nationality_ok, "nationality_mismatch"),
        ("issuing_state", issuer_ok, "issuing_state_mismatch"),
        ("document_type", doc_type_ok, "document_type_mismatch"),
    ]
    return tuple(
        FieldComparison(field, ok, "match" if ok else reason) for field, ok, reason in results
    )
