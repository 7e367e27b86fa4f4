"""Watchlist importers on the shipped samples and on hostile input."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from errors import InvalidInput
from kyc.watchlists import (
    ImportProgress,
    MalformedWatchlist,
    iter_opensanctions_csv,
    iter_un_consolidated_xml,
    un_list_version,
)

SAMPLES = Path(__file__).parents[2] / "kyc" / "data" / "samples"
HEADER = "id,schema,name,aliases,birth_date,countries,sanctions,dataset\n"


def _csv(text: str, **kwargs: object) -> list:
    return list(iter_opensanctions_csv(io.StringIO(text), list_version="v1", **kwargs))


def test_opensanctions_sample() -> None:
    seen: list[ImportProgress] = []
    with (SAMPLES / "opensanctions-targets.simple.csv").open(newline="", encoding="utf-8") as f:
        entries = list(iter_opensanctions_csv(f, list_version="2026-09-15", progress=seen.append))
    by_id = {e.id: e for e in entries}
    assert "sample-os-0005" not in by_id  # a Company: persons only by default
    assert len(entries) == 8
    ivan = by_id["sample-os-0001"]
    assert ivan.name == "Ivan Petrovich Sidorenko"
    assert "Иван Петрович Сидоренко" in ivan.aliases
    assert ivan.birth_dates == ("1961-03-04",)
    assert ivan.nationalities == ("RU",)
    assert ivan.topics == ("sanction",)
    assert ivan.list_version == "2026-09-15"
    assert by_id["sample-os-0007"].birth_dates == ("1969", "1970")
    assert by_id["sample-os-0009"].nationalities == ("UA", "PL")
    assert "Kovalenko; Olena" in by_id["sample-os-0009"].aliases  # quoted ';' inside a value
    assert by_id["sample-os-0004"].topics == ("role.pep",)
    assert seen[-1] == ImportProgress(read=9, produced=8, done=True)


def test_opensanctions_schemas_can_include_companies() -> None:
    with (SAMPLES / "opensanctions-targets.simple.csv").open(newline="", encoding="utf-8") as f:
        entries = list(
            iter_opensanctions_csv(f, list_version="v", schemas=frozenset({"Person", "Company"}))
        )
    assert "sample-os-0005" in {e.id for e in entries}


def test_un_sample() -> None:
    seen: list[ImportProgress] = []
    with (SAMPLES / "un-consolidated.xml").open("rb") as f:
        entries = list(iter_un_consolidated_xml(f, progress=seen.append, progress_every=1))
    assert [e.id for e in entries] == ["unsc-9000001", "unsc-9000002", "unsc-9000003"]
    kwon, samari, nkurunziza = entries
    assert kwon.name == "KWON SANG CHOL"
    assert kwon.aliases == ("권상철", "Kwon Sang-chol")  # the "Low" alias is left out
    assert kwon.nationalities == ("KP",)
    assert kwon.birth_dates == ("1968-07-21",)
    assert kwon.programs == ("UN DPRK KPi.901",)
    assert kwon.list_version == "2026-09-15T23:00:00.000Z"
    assert samari.aliases == ("Abdulrahman Yusuf al-Samarri", "Abu Yusuf al-Samari")
    assert samari.birth_dates == ("1974", "1975", "1976")
    assert nkurunziza.aliases == () and nkurunziza.birth_dates == ("1971",)
    assert seen[-1].done and seen[-1].read == 4 and seen[-1].produced == 3
    assert un_list_version(str(SAMPLES / "un-consolidated.xml")) == "2026-09-15T23:00:00.000Z"


def test_un_entities_on_request() -> None:
    entries = list(
        iter_un_consolidated_xml(
            str(SAMPLES / "un-consolidated.xml"), kinds=frozenset({"organization"})
        )
    )
    assert [(e.id, e.kind) for e in entries] == [("unsc-9100001", "organization")]


# --- hostile CSV ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,where",
    [
        ("", "line 1"),
        ("name,schema\nx,Person\n", "line 1"),  # no id column
        (HEADER + "a1,Person,Ann Example\n", "line 2"),  # too few cells
        (HEADER + "a1,Person,Ann Example,,,,,,extra\n", "line 2"),  # too many
        (HEADER + ",Person,Ann Example,,,,,\n", "line 2"),  # empty id
        (HEADER + "a1,Person,   ,,,,,\n", "line 2"),  # empty name
        (HEADER + 'a1,Person,"Ann Example,,,,,\n', "line 2"),  # unterminated quote
        (HEADER + "a1,Person,Ann\x00Example,,,,,\n", "line 2"),  # NUL byte
        (HEADER + "a1,Person," + "A" * 200_000 + ",,,,,\n", "line 2"),  # over the field limit
    ],
    ids=[
        "empty", "no_id_column", "short_row", "long_row", "empty_id", "empty_name",
        "open_quote", "nul", "huge_field",
    ],
)  # fmt: skip
def test_malformed_csv_raises_with_the_line(text: str, where: str) -> None:
    with pytest.raises(MalformedWatchlist) as info:
        _csv(text)
    assert isinstance(info.value, InvalidInput)
    assert info.value.code == "malformed_watchlist"
    assert info.value.field == where


def test_lenient_mode_skips_bad_rows_and_counts_them() -> None:
    seen: list[ImportProgress] = []
    text = HEADER + "a1,Person,Ann Example\nb2,Person,Bo Example,,,se,,\n,Person,X,,,,,\n"
    entries = _csv(text, strict=False, progress=seen.append)
    assert [e.id for e in entries] == ["b2"]
    assert seen[-1].skipped == 2 and len(seen[-1].skipped_reasons) == 2


def test_csv_values_are_cleaned() -> None:
    text = HEADER + 'a1,Person,"  Ann \n Example ",";;Ann E.;",1970-13;1970;bad,"se;zz;SE;x",,\n'
    (entry,) = _csv(text)
    assert entry.name == "Ann Example"
    assert entry.aliases == ("Ann E.",)
    assert entry.birth_dates == ("1970",)  # "1970-13" is no date
    assert entry.nationalities == ("SE",)


def test_csv_header_with_bom_and_reordered_columns() -> None:
    text = "\ufeffname,id,schema\nAnn Example,a1,Person\n"
    (entry,) = _csv(text)
    assert (entry.id, entry.name) == ("a1", "Ann Example")


# --- hostile XML ----------------------------------------------------------------------------------

_ROOT = '<CONSOLIDATED_LIST dateGenerated="2026-01-01T00:00:00Z">{}</CONSOLIDATED_LIST>'
_PERSON = (
    "<INDIVIDUAL><DATAID>{}</DATAID><FIRST_NAME>ANN</FIRST_NAME><SECOND_NAME>EXAMPLE"
    "</SECOND_NAME>{}</INDIVIDUAL>"
)


def _xml(text: str, **kwargs: object) -> list:
    return list(iter_un_consolidated_xml(io.BytesIO(text.encode()), **kwargs))


def test_unexpected_elements_are_ignored() -> None:
    body = (
        "<SURPRISE><INDIVIDUAL><DATAID>9</DATAID><FIRST_NAME>NOT</FIRST_NAME></INDIVIDUAL>"
        "</SURPRISE><INDIVIDUALS>"
        + _PERSON.format(1, "<NEW_ELEMENT attr='x'>text<DEEPER/></NEW_ELEMENT><NATIONALITY>"
                         "<VALUE>Atlantis</VALUE><VALUE>Sweden</VALUE></NATIONALITY>")
        + "<INDIVIDUAL><DATAID>2</DATAID></INDIVIDUAL>"  # no name: skipped
        + "</INDIVIDUALS><SOMETHING_ELSE/>"
    )  # fmt: skip
    entries = _xml(_ROOT.format(body))
    assert [(e.id, e.name, e.nationalities) for e in entries] == [
        ("unsc-1", "ANN EXAMPLE", ("SE",))
    ]


@pytest.mark.parametrize(
    "text",
    [
        # billion laughs
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;">]><CONSOLIDATED_LIST dateGenerated="x">&c;</CONSOLIDATED_LIST>',
        # external entity
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<CONSOLIDATED_LIST dateGenerated="x">&x;</CONSOLIDATED_LIST>',
        # any DTD at all
        '<?xml version="1.0"?><!DOCTYPE CONSOLIDATED_LIST><CONSOLIDATED_LIST dateGenerated="x"/>',
        # not well-formed
        _ROOT.format("<INDIVIDUALS><INDIVIDUAL>"),
        "",
        "<OTHER_LIST dateGenerated='x'/>",
        "<CONSOLIDATED_LIST><INDIVIDUALS/></CONSOLIDATED_LIST>",  # no version
    ],
    ids=[
        "billion_laughs", "external_entity", "dtd", "truncated", "empty", "wrong_root",
        "no_version",
    ],
)  # fmt: skip
def test_hostile_xml_is_refused(text: str) -> None:
    with pytest.raises(MalformedWatchlist):
        _xml(text)


def test_un_list_version_refuses_a_dtd() -> None:
    with pytest.raises(MalformedWatchlist):
        un_list_version(io.BytesIO(b'<!DOCTYPE x [<!ENTITY a "b">]><CONSOLIDATED_LIST/>'))


def test_large_list_streams_in_flat_memory() -> None:
    import tracemalloc

    people = "".join(_PERSON.format(i, "") for i in range(20_000))
    data = _ROOT.format(f"<INDIVIDUALS>{people}</INDIVIDUALS>").encode()
    tracemalloc.start()
    count = sum(1 for _ in iter_un_consolidated_xml(io.BytesIO(data)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 20_000
    assert peak < 8 * 1024 * 1024, peak  # records are dropped as they are read
