"""Watchlist importers for published formats, streaming ``WatchlistEntry`` values.

- OpenSanctions ``targets.simple.csv`` (the "Targets as simplified CSV" export): a header row
  ``id, schema, name, aliases, birth_date, countries, addresses, identifiers, sanctions, phones,
  emails, dataset, first_seen, last_seen, last_change`` (later exports add ``program_ids``; the
  restricted ``targets.simple-02.csv`` adds ``topics``). Columns are found by header name; only
  ``id``, ``schema`` and ``name`` are required. Multi-valued cells are themselves ``;``-separated
  CSV (quoted when a value holds ``;``). Countries are lower-case alpha-2 codes. The file carries
  no version: pass the dataset's version (from its ``index.json``) as ``list_version``.
- UN Security Council Consolidated List XML (``consolidated.xml``, schema ``sc-sanctions.xsd``):
  root ``CONSOLIDATED_LIST`` with ``dateGenerated`` (used as the list version), then
  ``INDIVIDUALS/INDIVIDUAL`` with ``DATAID``, ``FIRST_NAME`` .. ``FOURTH_NAME``,
  ``UN_LIST_TYPE``, ``REFERENCE_NUMBER``, ``NAME_ORIGINAL_SCRIPT``, ``NATIONALITY/VALUE``
  (English country names), ``INDIVIDUAL_ALIAS`` (``QUALITY``, ``ALIAS_NAME``) and
  ``INDIVIDUAL_DATE_OF_BIRTH`` (``TYPE_OF_DATE`` EXACT / APPROXIMATELY / BETWEEN with ``DATE``,
  ``YEAR``, ``FROM_YEAR``/``TO_YEAR``); ``ENTITIES/ENTITY`` likewise with ``ENTITY_ALIAS``.

Both read incrementally (``csv.reader``; ``defusedxml`` ``iterparse`` with DTDs refused, so no
entity expansion or external entity is ever processed) and report progress through a callback.
A malformed file raises ``MalformedWatchlist`` naming the line or element (a CSV cell over
the csv module's 128 KiB field limit counts as malformed); with
``strict=False`` a malformed CSV row is skipped and counted instead.

    >>> import io
    >>> csv_text = 'id,schema,name,aliases,birth_date,countries\\n' \\
    ...     'x1,Person,Ivan Sidorenko,"Иван Сидоренко;I. Sidorenko",1961-03-04,ru\\n'
    >>> [e.aliases for e in iter_opensanctions_csv(io.StringIO(csv_text), list_version="v1")]
    [('Иван Сидоренко', 'I. Sidorenko')]
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from errors import InvalidInput
from kyc.countries import country_from_name, is_country
from kyc.screening import WatchlistEntry, is_partial_iso_date

__all__ = [
    "ImportProgress",
    "MalformedWatchlist",
    "iter_opensanctions_csv",
    "iter_un_consolidated_xml",
    "un_list_version",
]

MAX_NAMES_PER_ENTRY = 500
MAX_VALUE_CHARS = 2000
SKIPPED_KEPT = 100
_PEP_DATASET_RE = re.compile(r"\bPEPs?\b|politically exposed", re.IGNORECASE)


class MalformedWatchlist(InvalidInput):
    """A watchlist file that is not in the format it claims (``field`` names the line)."""

    code = "malformed_watchlist"


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """Where an import is: rows (CSV) or records (XML) read, entries produced, rows skipped
    (``strict=False``) with the first few reasons, and whether the file is finished."""

    read: int
    produced: int
    skipped: int = 0
    skipped_reasons: tuple[str, ...] = ()
    done: bool = False


Progress = Callable[[ImportProgress], None]


def _clean(value: str | None) -> str:
    """Whitespace collapsed, other control characters dropped, length capped."""
    if not value:
        return ""
    value = "".join(c for c in value if c.isprintable() or c.isspace())
    return " ".join(value.split())[:MAX_VALUE_CHARS]


# --- OpenSanctions targets.simple.csv -------------------------------------------------------------


def _multi(cell: str) -> list[str]:
    if not cell:
        return []
    values = next(csv.reader([cell], delimiter=";"), [])
    return [v for v in (_clean(x) for x in values) if v]


def iter_opensanctions_csv(
    stream: IO[str],
    *,
    list_name: str = "opensanctions",
    list_version: str,
    schemas: frozenset[str] = frozenset({"Person"}),
    default_topics: tuple[str, ...] = (),
    progress: Progress | None = None,
    progress_every: int = 10_000,
    strict: bool = True,
) -> Iterator[WatchlistEntry]:
    """Entries of an OpenSanctions ``targets.simple.csv`` (open the file with ``newline=""``).

    ``schemas`` keeps rows of those FollowTheMoney schemata (persons by default). Topics are the
    ``topics`` column when present, plus ``sanction`` for rows with a ``sanctions`` value, plus
    ``default_topics`` (e.g. ``("role.pep",)`` for the PEP collection), plus ``role.pep`` when
    a source dataset's title names PEPs (the simple export has no topics column).
    """
    reader = csv.reader(stream)
    read = produced = skipped = 0
    reasons: list[str] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise MalformedWatchlist(f"header: {exc}", field="line 1") from exc
    if header is None:
        raise MalformedWatchlist("empty file: no header row", field="line 1")
    columns = {name.strip().lstrip("\ufeff"): i for i, name in enumerate(header)}
    missing = {"id", "schema", "name"} - columns.keys()
    if missing:
        raise MalformedWatchlist(f"header lacks {sorted(missing)}", field="line 1")

    def cell(row: list[str], name: str) -> str:
        i = columns.get(name)
        return row[i] if i is not None else ""

    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The csv module cannot resynchronise after a broken quote or a NUL: stop here.
            raise MalformedWatchlist(f"line {line}: {exc}", field=f"line {line}") from exc
        read += 1
        problem = None
        if len(row) != len(header):
            problem = f"line {reader.line_num}: {len(row)} cells, header has {len(header)}"
        elif any("\x00" in value for value in row):
            problem = f"line {reader.line_num}: NUL character"
        elif not cell(row, "id").strip() or not _clean(cell(row, "name")):
            problem = f"line {reader.line_num}: empty id or name"
        if problem is not None:
            if strict:
                raise MalformedWatchlist(problem, field=f"line {reader.line_num}")
            skipped += 1
            if len(reasons) < SKIPPED_KEPT:
                reasons.append(problem)
            continue
        if cell(row, "schema").strip() not in schemas:
            continue
        name = _clean(cell(row, "name"))
        aliases = tuple(a for a in dict.fromkeys(_multi(cell(row, "aliases"))) if a != name)
        countries = tuple(
            dict.fromkeys(
                c.upper() for c in _multi(cell(row, "countries")) if is_country(c.upper())
            )
        )
        topics = list(_multi(cell(row, "topics")))
        programs = _multi(cell(row, "sanctions")) + _multi(cell(row, "program_ids"))
        if _multi(cell(row, "sanctions")) and "sanction" not in topics:
            topics.append("sanction")
        if "role.pep" not in topics and any(
            _PEP_DATASET_RE.search(d) for d in _multi(cell(row, "dataset"))
        ):
            topics.append("role.pep")  # heuristic: the source dataset's title names PEPs
        topics += [t for t in default_topics if t not in topics]
        produced += 1
        yield WatchlistEntry(
            id=cell(row, "id").strip()[:200],
            name=name,
            aliases=aliases[:MAX_NAMES_PER_ENTRY],
            birth_dates=tuple(d for d in _multi(cell(row, "birth_date")) if is_partial_iso_date(d)),
            nationalities=countries,
            list_name=list_name,
            list_version=list_version,
            topics=tuple(topics),
            programs=tuple(dict.fromkeys(programs)),
        )
        if progress is not None and read % progress_every == 0:
            progress(ImportProgress(read, produced, skipped, tuple(reasons)))
    if progress is not None:
        progress(ImportProgress(read, produced, skipped, tuple(reasons), done=True))


# --- UN Security Council consolidated list --------------------------------------------------------

# "Low" quality aliases (weak, often a single common word) are left out, as OpenSanctions keeps
# them apart as weak aliases.
_ALIAS_QUALITIES = {"", "good", "a.k.a.", "f.k.a."}
_RECORDS = {"INDIVIDUAL": "person", "ENTITY": "organization"}
_CONTAINERS = {"person": "INDIVIDUALS", "organization": "ENTITIES"}


def _text(element: Element, tag: str) -> str:
    found = element.find(tag)
    return _clean(found.text) if found is not None else ""


def _un_birth_dates(record: Element) -> tuple[str, ...]:
    dates: list[str] = []
    for dob in record.findall("INDIVIDUAL_DATE_OF_BIRTH"):
        for tag in ("DATE", "YEAR"):
            value = _text(dob, tag)[:10]
            if is_partial_iso_date(value):
                dates.append(value)
        start, end = _text(dob, "FROM_YEAR"), _text(dob, "TO_YEAR")
        if re.fullmatch(r"[0-9]{4}", start) and re.fullmatch(r"[0-9]{4}", end):
            low, high = int(start), int(end)
            if 0 <= high - low <= 30:
                dates += [str(y) for y in range(low, high + 1)]
    return tuple(dict.fromkeys(dates))


def _un_entry(record: Element, kind: str, version: str) -> WatchlistEntry | None:
    dataid = _text(record, "DATAID")
    parts = [_text(record, t) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
    name = " ".join(p for p in parts if p)
    if not dataid or not name:
        return None
    alias_tag = "INDIVIDUAL_ALIAS" if kind == "person" else "ENTITY_ALIAS"
    aliases: list[str] = []
    original = _text(record, "NAME_ORIGINAL_SCRIPT")
    if original:
        aliases.append(original)
    for alias in record.findall(alias_tag):
        quality = _text(alias, "QUALITY").lower()
        if quality not in _ALIAS_QUALITIES:
            continue
        # One ALIAS_NAME may hold several names separated by "; ".
        aliases += [a for a in (_clean(x) for x in _text(alias, "ALIAS_NAME").split(";")) if a]
    nationalities = []
    for value in record.findall("NATIONALITY/VALUE"):
        code = country_from_name(value.text or "")
        if code:
            nationalities.append(code)
    list_type = _text(record, "UN_LIST_TYPE")
    reference = _text(record, "REFERENCE_NUMBER")
    return WatchlistEntry(
        id=f"unsc-{dataid}"[:200],
        name=name,
        aliases=tuple(a for a in dict.fromkeys(aliases) if a != name)[:MAX_NAMES_PER_ENTRY],
        birth_dates=_un_birth_dates(record) if kind == "person" else (),
        nationalities=tuple(dict.fromkeys(nationalities)),
        list_name="un-sc-consolidated",
        list_version=version,
        topics=("sanction",),
        programs=tuple(p for p in (f"UN {list_type} {reference}".strip(),) if p != "UN"),
        kind=kind,
    )


def iter_un_consolidated_xml(
    source: IO[bytes] | str,
    *,
    kinds: frozenset[str] = frozenset({"person"}),
    progress: Progress | None = None,
    progress_every: int = 1_000,
) -> Iterator[WatchlistEntry]:
    """Entries of the UN SC consolidated list (a binary stream or a path). The list version of
    every entry is the root's ``dateGenerated``. ``kinds`` chooses persons and/or organisations;
    unknown elements are ignored, DTDs and entities refused."""
    version = ""
    read = produced = 0
    parents: list[Element] = []
    try:
        for event, element in iterparse(source, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                if not parents:
                    if element.tag != "CONSOLIDATED_LIST":
                        raise MalformedWatchlist(
                            f"root element is {element.tag[:50]!r}, not CONSOLIDATED_LIST",
                            field="CONSOLIDATED_LIST",
                        )
                    version = _clean(element.get("dateGenerated"))[:64]
                    if not version:
                        raise MalformedWatchlist(
                            "CONSOLIDATED_LIST has no dateGenerated", field="dateGenerated"
                        )
                parents.append(element)
                continue
            parents.pop()
            if len(parents) == 1:
                parents[0].remove(element)  # a finished section: nothing refers to it again
                continue
            kind = _RECORDS.get(element.tag)
            if kind is None or len(parents) != 2 or parents[-1].tag != _CONTAINERS[kind]:
                continue
            read += 1
            if kind in kinds:
                entry = _un_entry(element, kind, version)
                if entry is not None:
                    produced += 1
                    yield entry
            # Drop the finished record so memory stays flat on large files.
            parents[-1].remove(element)
            if progress is not None and read % progress_every == 0:
                progress(ImportProgress(read, produced))
    except (ParseError, DefusedXmlException) as exc:
        position = getattr(exc, "position", None)
        where = f"line {position[0]}" if position else "xml"
        raise MalformedWatchlist(f"not well-formed or unsafe XML: {exc}", field=where) from exc
    if not version:
        raise MalformedWatchlist("no CONSOLIDATED_LIST element", field="CONSOLIDATED_LIST")
    if progress is not None:
        progress(ImportProgress(read, produced, done=True))


def un_list_version(source: IO[bytes] | str) -> str:
    """The ``dateGenerated`` of a UN consolidated list, reading only its first element."""
    try:
        for _, element in iterparse(source, events=("start",), forbid_dtd=True):
            version = _clean(element.get("dateGenerated"))[:64]
            if element.tag != "CONSOLIDATED_LIST" or not version:
                break
            return version
    except (ParseError, DefusedXmlException) as exc:
        raise MalformedWatchlist(f"not well-formed or unsafe XML: {exc}", field="xml") from exc
    raise MalformedWatchlist("no CONSOLIDATED_LIST with dateGenerated", field="dateGenerated")
