"""Help a moderator de-identify a review, and check they kept what the person said.

``redactions_suggest`` finds the things that identify someone (the names on
the budget holder's and author's records, phone numbers, email addresses,
postcodes and street addresses) and ``redactions_apply`` replaces them with
a marker such as ``[name removed]``. The moderator sees the suggestion and
edits it; ``substance_kept`` then checks the edit only removed or replaced
short passages with such markers, so a moderator cannot rewrite a complaint.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

MARKER_RE = re.compile(r"\[[a-z ]{1,30} removed\]", re.IGNORECASE)

EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# UK numbers: 020 8359 2000, 07700 900123, +44 7700 900123, (020) 8359-2000.
PHONE_RE = re.compile(r"(?<![\w])(?:\+44\s?\(?0?\)?|\(?0)\d{2,4}\)?(?:[\s-]?\d{3,4}){2}\b")
POSTCODE_RE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)
STREET_RE = re.compile(
    r"\b\d{1,4}[A-Za-z]?,?\s+(?:[A-Z][a-z']+\s+){1,3}"
    r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Close|Drive|Way|Gardens|Court|Crescent|Place"
    r"|Grove|Terrace|Hill|Rise|Mews|Walk|Square|Park)\b"
)

# The longest run of words a moderator may replace with one marker (a full
# address with a flat number is about this long).
MAX_WORDS_PER_MARKER = 8


@dataclass(frozen=True)
class Redaction:
    start: int
    end: int
    kind: str  # "name", "phone number", "email address", "address", "postcode"
    text: str

    @property
    def marker(self) -> str:
        return f"[{self.kind} removed]"


def _name_parts(names: Iterable[str]) -> list[str]:
    parts: set[str] = set()
    for name in names:
        for part in re.split(r"[\s-]+", name or ""):
            part = part.strip(".,'")
            if len(part) >= 2 and part[0].isalpha():
                parts.add(part)
    # Longest first so "Kamala Shah" wins over "Kamala".
    return sorted(parts, key=len, reverse=True)


def redactions_suggest(*, text: str, names: Iterable[str] = ()) -> list[Redaction]:
    """Every identifying passage found in ``text``, in order, never overlapping."""
    found: list[Redaction] = []
    patterns = [
        (EMAIL_RE, "email address"),
        (STREET_RE, "address"),
        (POSTCODE_RE, "postcode"),
        (PHONE_RE, "phone number"),
    ]
    for pattern, kind in patterns:
        found += [Redaction(m.start(), m.end(), kind, m.group()) for m in pattern.finditer(text)]
    parts = _name_parts(names)
    if parts:
        name_re = re.compile(
            r"\b(?:"
            + "|".join(re.escape(p) for p in parts)
            + r")(?:\s+(?:"
            + "|".join(re.escape(p) for p in parts)
            + r"))*\b",
            re.IGNORECASE,
        )
        found += [Redaction(m.start(), m.end(), "name", m.group()) for m in name_re.finditer(text)]
    found.sort(key=lambda r: (r.start, -(r.end - r.start)))
    kept: list[Redaction] = []
    for redaction in found:
        if kept and redaction.start < kept[-1].end:
            continue
        kept.append(redaction)
    return kept


def redactions_apply(*, text: str, redactions: Iterable[Redaction]) -> str:
    """``text`` with each redaction replaced by its marker."""
    out, position = [], 0
    for redaction in sorted(redactions, key=lambda r: r.start):
        out.append(text[position : redaction.start])
        out.append(redaction.marker)
        position = redaction.end
    out.append(text[position:])
    return "".join(out)


def deidentified_suggestion(*, text: str, names: Iterable[str] = ()) -> str:
    return redactions_apply(text=text, redactions=redactions_suggest(text=text, names=names))


_MARKER_TOKEN = "\x00"  # noqa: S105 - a placeholder word, not a secret


def _words(text: str) -> list[tuple[str, str]]:
    """(compared form, original form) of each word; a marker is one word."""
    # A marker joined to what follows ("[name removed]'s") is still one marker word.
    text = MARKER_RE.sub(f" {_MARKER_TOKEN}", text)
    words = []
    for raw in text.split():
        if raw.startswith(_MARKER_TOKEN):
            words.append((_MARKER_TOKEN, raw))
            continue
        word = re.sub(r"[^\w£%@]", "", raw.lower())
        if word:
            words.append((word, raw))
    return words


def _looks_identifying(raw_words: list[str]) -> bool:
    """A passage a marker may stand for: names (capitalised words, with "and", "of" or
    "the" between them), numbers, email addresses, postcodes, street addresses."""
    text = " ".join(raw_words)
    if "@" in text or any(ch.isdigit() for ch in text):
        return True
    for raw in raw_words:
        word = raw.strip(".,;:!?'\"()")
        if not word:
            continue
        if not (word[0].isupper() or word.lower() in {"and", "of", "the", "de", "van", "von"}):
            return False
    return True


def substance_kept(*, original: str, edited: str) -> bool:
    """True when ``edited`` is ``original`` with only identifying passages swapped for markers.

    Words are compared ignoring case and punctuation, so tidying those is
    allowed; every other difference must be a run of at most
    MAX_WORDS_PER_MARKER original words that looks identifying (a name,
    number, email address, postcode or address) replaced by one or more
    markers. No new words may be added and nothing deleted without a marker,
    so "rude and late" can never become "[name removed]".
    """
    before, after = _words(original), _words(edited)
    matcher = SequenceMatcher(
        a=[word for word, _ in before], b=[word for word, _ in after], autojunk=False
    )
    for operation, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        if operation == "equal":
            continue
        replacement = [word for word, _ in after[b_start:b_end]]
        if not replacement or any(word != _MARKER_TOKEN for word in replacement):
            return False
        if a_end - a_start > MAX_WORDS_PER_MARKER * len(replacement):
            return False
        if a_end > a_start and not _looks_identifying([raw for _, raw in before[a_start:a_end]]):
            return False
    return True
