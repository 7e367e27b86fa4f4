"""Sanctions and PEP screening: the watchlist model, an index, and scoring.

Lists are data passed in (``WatchlistEntry`` values, from ``kyc.watchlists`` importers or
anywhere else); nothing here reads files or the network.

Scoring, per applicant name and list name (primary name and every alias):

- both names go through ``kyc.names`` (NFKC, invisible characters and homoglyphs folded,
  transliteration, diacritics, case), giving words;
- words are aligned one to one, in any order, each pair scored with RapidFuzz's normalised
  Indel ratio; a one-letter word (an initial) matches any word with that first letter at 0.8;
  unmatched words count against the score (list words at half weight, for middle names and
  patronymics the applicant did not give); the same names with spaces removed are compared too
  (``Xi Jin Ping`` / ``Xi Jinping``); the best of these is the name score (0-100);
- the best name score of an entry is adjusted by the other attributes: a birth date equal to one
  listed raises it (a year-only agreement less), a listed birth date that disagrees lowers it; a
  nationality among the listed countries raises it, listed countries that exclude the
  applicant's lower it (``ScreeningConfig``).

Outcome: ``hit`` at or above ``hit_threshold`` when corroborated by a birth date or a country
(a name alone never rejects automatically: ``hit_requires_corroboration``), ``possible_match``
at or above ``review_threshold``, else ``clear``. An entry listed only as a PEP (topics
``role.pep``/``role.rca``, no sanction) is at most a ``possible_match`` with ``pep_match``:
FATF Recommendation 12 asks for enhanced due diligence on PEPs, not refusal.

``WatchlistIndex`` makes one screening against about a million entries cheap: every word maps
to the names holding it, and every name with its spaces removed is a key too. An applicant's
words find their exact and near words through ``rapidfuzz.process`` over the word vocabulary;
the names holding at least two of them (one for a one-word name), plus the names equal once
spaces are removed, are the candidates; RapidFuzz's ``token_sort_ratio`` cuts those to
``candidate_limit``, and only they are scored in full.

    >>> entry = WatchlistEntry(id="x1", name="Ivan Petrovich Sidorenko",
    ...     aliases=("Иван Сидоренко",), birth_dates=("1961-03-04",), nationalities=("RU",),
    ...     list_name="sample", list_version="2026-09-01", topics=("sanction",))
    >>> index = WatchlistIndex([entry])
    >>> result = index.screen(ScreeningSubject(("Ivan Sidorenko",), date(1961, 3, 4), ("RU",)))
    >>> result.outcome, result.matches[0].entry.id
    (<ScreeningOutcome.HIT: 'hit'>, 'x1')
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from rapidfuzz import fuzz, process

from kyc.names import name_keys

__all__ = [
    "Match",
    "ScreeningConfig",
    "ScreeningOutcome",
    "ScreeningResult",
    "ScreeningSubject",
    "WatchlistEntry",
    "WatchlistIndex",
    "name_score",
    "screen",
]

_PEP_TOPICS = frozenset({"role.pep", "role.rca"})  # PEPs and their relatives/close associates
_PARTIAL_DATE_RE = re.compile(r"[0-9]{4}(?:-[0-9]{2}(?:-[0-9]{2})?)?")


@dataclass(frozen=True, slots=True)
class WatchlistEntry:
    """One listed person (or organisation).

    ``birth_dates`` are ISO 8601 dates, possibly partial (``1961``, ``1961-03``,
    ``1961-03-04``); ``nationalities`` are ISO 3166-1 alpha-2 codes; ``topics`` use
    OpenSanctions' vocabulary (``sanction``, ``role.pep``, ``crime``, ...); ``programs`` name
    the regime or listing (``UN DPRK KPi.033``).
    """

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    birth_dates: tuple[str, ...] = ()
    nationalities: tuple[str, ...] = ()
    list_name: str = ""
    list_version: str = ""
    topics: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    kind: str = "person"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class ScreeningSubject:
    """Who is screened: full names (``"Anna Maria Eriksson"``; aliases or previous names may
    follow), a birth date if known, and countries (nationality, residence) as alpha-2."""

    names: tuple[str, ...]
    birthdate: date | None = None
    countries: tuple[str, ...] = ()


class ScreeningOutcome(StrEnum):
    CLEAR = "clear"
    POSSIBLE_MATCH = "possible_match"  # -> manual review
    HIT = "hit"  # -> reject (or suspend an existing client)


@dataclass(frozen=True, slots=True)
class ScreeningConfig:
    hit_threshold: float = 90.0
    review_threshold: float = 70.0
    hit_requires_corroboration: bool = True
    birthdate_match_bonus: float = 8.0
    birthyear_match_bonus: float = 4.0
    birthdate_mismatch_penalty: float = 20.0
    nationality_match_bonus: float = 5.0
    nationality_mismatch_penalty: float = 10.0
    initial_similarity: float = 0.8
    max_matches: int = 10
    candidate_limit: int = 200
    fuzzy_token_cutoff: float = 75.0
    fuzzy_token_limit: int = 30


@dataclass(frozen=True, slots=True)
class Match:
    """A list entry that scored at or above the review threshold, and why."""

    entry: WatchlistEntry
    matched_name: str
    name_score: float
    score: float
    outcome: ScreeningOutcome
    reasons: tuple[str, ...]  # e.g. "birthdate_match", "nationality_mismatch"


@dataclass(frozen=True, slots=True)
class ScreeningResult:
    outcome: ScreeningOutcome
    matches: tuple[Match, ...]
    lists: tuple[tuple[str, str], ...]  # (list name, list version) screened against

    @property
    def matched_entry_ids(self) -> frozenset[str]:
        return frozenset(m.entry.id for m in self.matches)


# --- name similarity ------------------------------------------------------------------------------


def _word_similarity(a: str, b: str, initial: float) -> float:
    if a == b:
        return 1.0
    if len(a) == 1 or len(b) == 1:
        return initial if a[0] == b[0] else 0.0
    return fuzz.ratio(a, b) / 100.0


def _aligned_score(query: Sequence[str], candidate: Sequence[str], initial: float) -> float:
    pairs = sorted(
        (
            (_word_similarity(q, c, initial), i, j)
            for i, q in enumerate(query)
            for j, c in enumerate(candidate)
        ),
        reverse=True,
    )
    used_q: set[int] = set()
    used_c: set[int] = set()
    numerator = denominator = 0.0
    for similarity, i, j in pairs:
        if similarity <= 0.5 or i in used_q or j in used_c:
            continue
        used_q.add(i)
        used_c.add(j)
        weight = len(query[i]) + len(candidate[j])
        numerator += similarity * weight
        denominator += weight
    denominator += sum(len(q) for i, q in enumerate(query) if i not in used_q)
    denominator += 0.5 * sum(len(c) for j, c in enumerate(candidate) if j not in used_c)
    return 100.0 * numerator / denominator if denominator else 0.0


def _words_score(query: Sequence[str], candidate: Sequence[str], initial: float) -> float:
    if not query or not candidate:
        return 0.0
    best = _aligned_score(query, candidate, initial)
    if all(len(w) > 1 for w in query):
        compact_c = "".join(candidate)
        for order in (query, query[::-1]):
            best = max(best, float(fuzz.ratio("".join(order), compact_c)))
    return best


def name_score(a: str, b: str, *, initial_similarity: float = 0.8) -> float:
    """Similarity of two names, 0-100, independent of word order, script and diacritics.

    >>> name_score("Владимир Путин", "PUTIN, Vladimir")
    100.0
    """
    keys_b = [k.split() for k in name_keys(b)]
    return max(
        (_words_score(ka.split(), kb, initial_similarity) for ka in name_keys(a) for kb in keys_b),
        default=0.0,
    )


# --- attributes -----------------------------------------------------------------------------------


def _birthdate_adjustment(
    birthdate: date | None, listed: tuple[str, ...], config: ScreeningConfig
) -> tuple[float, str | None]:
    if birthdate is None or not listed:
        return 0.0, None
    iso = birthdate.isoformat()
    best: tuple[float, str | None] = (-config.birthdate_mismatch_penalty, "birthdate_mismatch")
    for value in listed:
        if len(value) == 10 and value == iso:
            return config.birthdate_match_bonus, "birthdate_match"
        if len(value) < 10 and iso.startswith(value):
            best = (config.birthyear_match_bonus, "birthyear_match")
    return best


def _country_adjustment(
    countries: tuple[str, ...], listed: tuple[str, ...], config: ScreeningConfig
) -> tuple[float, str | None]:
    if not countries or not listed:
        return 0.0, None
    if set(countries) & set(listed):
        return config.nationality_match_bonus, "nationality_match"
    return -config.nationality_mismatch_penalty, "nationality_mismatch"


def _judge(
    subject: ScreeningSubject,
    entry: WatchlistEntry,
    matched_name: str,
    best: float,
    config: ScreeningConfig,
) -> Match:
    reasons: list[str] = []
    score = best
    for delta, reason in (
        _birthdate_adjustment(subject.birthdate, entry.birth_dates, config),
        _country_adjustment(subject.countries, entry.nationalities, config),
    ):
        score += delta
        if reason:
            reasons.append(reason)
    score = max(0.0, min(100.0, score))
    corroborated = any(r.endswith("_match") for r in reasons)
    pep_only = bool(entry.topics) and not set(entry.topics) - _PEP_TOPICS
    if score >= config.hit_threshold and pep_only:
        # FATF R.12: a politically exposed person needs enhanced due diligence, not refusal.
        outcome = ScreeningOutcome.POSSIBLE_MATCH
        reasons.append("pep_match")
    elif score >= config.hit_threshold and (corroborated or not config.hit_requires_corroboration):
        outcome = ScreeningOutcome.HIT
    elif score >= config.review_threshold:
        outcome = ScreeningOutcome.POSSIBLE_MATCH
        if score >= config.hit_threshold:
            reasons.append("uncorroborated_name_match")
    else:
        outcome = ScreeningOutcome.CLEAR
    return Match(entry, matched_name, round(best, 2), round(score, 2), outcome, tuple(reasons))


# --- index ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Name:
    entry: int
    text: str
    words: tuple[str, ...]
    joined: str = field(init=False)

    def __post_init__(self) -> None:
        self.joined = " ".join(sorted(self.words))


class WatchlistIndex:
    """Entries with their names normalised and blocked by word, ready to screen against.

    Build once per list version (``WatchlistIndex(entries)``); screening is read-only, so one
    index serves concurrent requests.
    """

    def __init__(
        self,
        entries: Iterable[WatchlistEntry],
        *,
        progress: Callable[[int], None] | None = None,
        progress_every: int = 10_000,
    ) -> None:
        self._entries: list[WatchlistEntry] = []
        self._names: list[_Name] = []
        postings: dict[str, list[int]] = defaultdict(list)  # word -> names holding it
        compact: dict[str, list[int]] = defaultdict(list)  # name without spaces -> names
        lists: set[tuple[str, str]] = set()
        for entry in entries:
            position = len(self._entries)
            self._entries.append(entry)
            lists.add((entry.list_name, entry.list_version))
            for text in entry.names:
                for key in name_keys(text):
                    words = tuple(key.split())
                    if not words:
                        continue
                    name_id = len(self._names)
                    self._names.append(_Name(position, text, words))
                    for word in set(words):
                        if len(word) > 1:
                            postings[word].append(name_id)
                    compact[" ".join(words).replace(" ", "")].append(name_id)
            if progress is not None and len(self._entries) % progress_every == 0:
                progress(len(self._entries))
        if progress is not None:
            progress(len(self._entries))
        self._postings = dict(postings)
        self._compact = dict(compact)
        self._vocabulary = list(self._postings)
        self._lists = tuple(sorted(lists))

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def lists(self) -> tuple[tuple[str, str], ...]:
        """(list name, list version) pairs of the entries indexed."""
        return self._lists

    def _near_words(self, word: str, config: ScreeningConfig) -> set[str]:
        found = {word} if word in self._postings else set()
        for candidate, _, _ in process.extract(
            word,
            self._vocabulary,
            scorer=fuzz.ratio,
            score_cutoff=config.fuzzy_token_cutoff,
            limit=config.fuzzy_token_limit,
        ):
            found.add(candidate)
        return found

    def _candidates(self, words: tuple[str, ...], config: ScreeningConfig) -> list[int]:
        usable = [w for w in dict.fromkeys(words) if len(w) > 1]
        hits: dict[int, int] = defaultdict(int)
        for word in usable:
            seen: set[int] = set()
            for near in self._near_words(word, config):
                seen.update(self._postings[near])
            for name_id in seen:
                hits[name_id] += 1
        needed = 1 if len(usable) <= 1 else 2
        found = [
            name_id
            for name_id, count in hits.items()
            if count >= needed or len(self._names[name_id].words) == 1
        ]
        # The same letters split differently ("xi jin ping" / "xi jinping"): exact lookup.
        for order in (words, words[::-1]):
            found += self._compact.get("".join(order), [])
        found = list(dict.fromkeys(found))
        if len(found) <= config.candidate_limit:
            return found
        query = " ".join(sorted(words))
        ranked = process.extract(
            query,
            {name_id: self._names[name_id].joined for name_id in found},
            scorer=fuzz.token_sort_ratio,
            limit=config.candidate_limit,
        )
        return [name_id for _, _, name_id in ranked]

    def screen(
        self, subject: ScreeningSubject, config: ScreeningConfig | None = None
    ) -> ScreeningResult:
        """Screen one subject against every entry; see the module docstring for the rules."""
        config = config or ScreeningConfig()
        best: dict[int, tuple[float, str]] = {}
        for text in subject.names:
            for key in name_keys(text):
                words = tuple(key.split())
                if not words:
                    continue
                for name_id in self._candidates(words, config):
                    name = self._names[name_id]
                    score = _words_score(words, name.words, config.initial_similarity)
                    if score > best.get(name.entry, (-1.0, ""))[0]:
                        best[name.entry] = (score, name.text)
        matches = [
            _judge(subject, self._entries[position], text, score, config)
            for position, (score, text) in best.items()
            if score >= config.review_threshold
        ]
        matches = [m for m in matches if m.outcome is not ScreeningOutcome.CLEAR]
        matches.sort(key=lambda m: (-m.score, m.entry.id))
        matches = matches[: config.max_matches]
        if any(m.outcome is ScreeningOutcome.HIT for m in matches):
            outcome = ScreeningOutcome.HIT
        elif matches:
            outcome = ScreeningOutcome.POSSIBLE_MATCH
        else:
            outcome = ScreeningOutcome.CLEAR
        return ScreeningResult(outcome, tuple(matches), self._lists)


def screen(
    subject: ScreeningSubject, index: WatchlistIndex, config: ScreeningConfig | None = None
) -> ScreeningResult:
    """``index.screen(subject, config)``."""
    return index.screen(subject, config)


def is_partial_iso_date(value: str) -> bool:
    """True for a real ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (ASCII digits only)."""
    if _PARTIAL_DATE_RE.fullmatch(value) is None:
        return False
    year, month, day = (int(p) for p in (value + "-01-01")[:10].split("-"))
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True
