"""Name normalisation for screening (UTS #39 ideas, simplified; security notes G9).

``normalize_name`` turns any Unicode string into lower-case ASCII words separated by single
spaces, so that spellings of one name written to slip past a list compare equal:

1. Invisible characters go: format characters (category Cf: zero-width space/joiners, bidi
   controls, soft hyphen, BOM), variation selectors and the combining grapheme joiner. Control
   characters (Cc) and separators become spaces.
2. NFKC folds compatibility forms (fullwidth ``Ｊｏｈｎ``, ligatures ``ﬁ``).
3. Inside a word that mixes Latin with Cyrillic or Greek letters, the Cyrillic/Greek look-alikes
   of Latin letters are replaced by those Latin letters (``Рutin`` with a Cyrillic ``Р``).
   Words written wholly in another script are transliterated instead (step 4), because
   ``Путин`` is a real Cyrillic spelling, not an attack; ``name_keys`` adds the look-alike
   reading of such words as a second key, for names typed entirely in look-alikes.
4. Everything else that is not ASCII is transliterated with ``anyascii`` (ISC licence):
   Cyrillic, Greek, Arabic (consonant skeletons), CJK and Hangul (syllable by syllable, spaced),
   and diacritics are dropped (``Müller`` -> ``muller``).
5. Case is folded, anything not a letter or digit becomes a space, spaces collapse.

The result is idempotent and never raises for any ``str``.

    >>> normalize_name("  Ｍüller\u200b-Lüdenscheidt ")
    'muller ludenscheidt'
    >>> normalize_name("Владимир Путин")
    'vladimir putin'
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

__all__ = ["has_mixed_script_words", "name_keys", "normalize_name", "tokens"]

MAX_NAME_CHARS = 1000  # longer inputs are cut before any work

# Cyrillic and Greek letters that render like Latin ones (a subset of Unicode confusables.txt,
# lower case after casefolding).
_HOMOGLYPHS = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i",
        "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ɡ": "g",
        # Greek
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ζ": "z", "μ": "u",
    }
)  # fmt: skip

_SPACED_SCRIPTS = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3134F),  # CJK Extensions B-G
)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _invisible(char: str) -> bool:
    category = unicodedata.category(char)
    return (
        category == "Cf"
        or 0xFE00 <= ord(char) <= 0xFE0F  # variation selectors
        or 0xE0100 <= ord(char) <= 0xE01EF
        or char == "\u034f"  # combining grapheme joiner
    )


def _strip_invisible(text: str) -> str:
    out = []
    for char in text:
        if _invisible(char):
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs", "Co", "Zl", "Zp", "Zs"):
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def _script(char: str) -> str:
    if char.isascii():
        return "latin" if char.isalpha() else ""
    name = unicodedata.name(char, "")
    if name.startswith("LATIN"):
        return "latin"
    if name.startswith("CYRILLIC"):
        return "cyrillic"
    if name.startswith("GREEK"):
        return "greek"
    return "other" if char.isalpha() else ""


def _word_scripts(word: str) -> set[str]:
    return {s for s in map(_script, word) if s}


def _fold_mixed_words(text: str) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        scripts = _word_scripts(word)
        if "latin" in scripts and scripts & {"cyrillic", "greek"}:
            words[i] = word.translate(_HOMOGLYPHS)
    return " ".join(words)


def _transliterate(text: str) -> str:
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
            continue
        code = ord(char)
        ascii_ = anyascii(char)
        if any(low <= code <= high for low, high in _SPACED_SCRIPTS):
            out.append(f" {ascii_} ")
        else:
            out.append(ascii_)
    return "".join(out)


def _prepare(text: str) -> str:
    text = text[:MAX_NAME_CHARS]
    text = _strip_invisible(text)
    text = unicodedata.normalize("NFKC", text)
    # NFKC can produce new format characters (rare); strip again, then fold case.
    return _strip_invisible(text).casefold()


def _finish(text: str) -> str:
    return _NON_ALNUM.sub(" ", _transliterate(text).casefold()).strip()


def normalize_name(text: str) -> str:
    """The screening form of a name: lower-case ASCII words, single spaces."""
    return _finish(_fold_mixed_words(_prepare(text)))


def name_keys(text: str) -> frozenset[str]:
    """Every screening form of a name worth comparing (at least one, possibly ``""``).

    Besides ``normalize_name``: the look-alike reading of words written wholly in Cyrillic or
    Greek (``Тоm`` typed entirely in look-alikes), and the German umlaut expansion
    (``Müller`` -> ``mueller``) next to the plain one (``muller``).
    """
    prepared = _fold_mixed_words(_prepare(text))
    keys = {_finish(prepared)}
    if any(s in {"cyrillic", "greek"} for s in _word_scripts(prepared)):
        keys.add(_finish(prepared.translate(_HOMOGLYPHS)))
    if any(c in prepared for c in "äöü"):
        expanded = prepared.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
        keys.add(_finish(expanded))
    return frozenset(keys)


def tokens(normalized: str) -> tuple[str, ...]:
    """The words of a normalised name."""
    return tuple(normalized.split())


def has_mixed_script_words(text: str) -> bool:
    """True when a word mixes Latin with Cyrillic/Greek letters, or invisible characters hide
    inside the name: signs of an attempt to evade screening (UTS #39 §5.1, mixed-script)."""
    if any(_invisible(c) for c in text):
        return True
    prepared = unicodedata.normalize("NFKC", text).casefold()
    return any(
        "latin" in (scripts := _word_scripts(word)) and bool(scripts & {"cyrillic", "greek"})
        for word in prepared.split()
    )
