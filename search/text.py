"""Query text handling shared by both search backends.

The Elasticsearch server we can run has no analysis-common module (no synonym
or stemming filters), so synonyms are expanded here, in Python, and both the
Elasticsearch and the database backend receive the same alternatives. That
keeps "help getting up in the morning" meaning the same thing everywhere.
"""

import re
import unicodedata

MAX_QUERY_LENGTH = 100

# Each group: the words people type, and the words providers use. A query
# containing any phrase on the left also matches the phrases on the right.
SYNONYMS: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (
        (
            "help getting up in the morning",
            "help getting up",
            "getting up in the morning",
            "getting dressed",
            "help with washing",
            "personal care",
            "home help",
            "carer",
            "carers at home",
            "domiciliary care",
            "care at home",
        ),
        ("home care",),
    ),
    (
        ("meals on wheels", "lunch club", "hot meals", "meal delivery", "dinner"),
        ("meals", "lunch club"),
    ),
    (("pa", "p.a.", "personal assistant", "personal assistants"), ("personal assistant",)),
    (
        ("respite", "short break", "short breaks", "a break from caring"),
        ("short breaks", "respite"),
    ),
    (("day centre", "day center", "day care", "day services"), ("day opportunities", "day centre")),
    (("lift", "lifts", "taxi", "dial a ride", "getting to appointments"), ("transport",)),
    (("company", "lonely", "loneliness", "someone to talk to", "visiting"), ("befriending",)),
    (("telecare", "aids", "adaptations", "mobility aids", "assistive technology"), ("equipment",)),
    (("advocate", "advocacy", "broker", "brokerage", "support planning"), ("advice", "advocacy")),
    (("bsl", "sign language", "translator", "translation"), ("interpreting",)),
    (("card", "prepayment card", "pre-payment card"), ("card",)),
]

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "at",
        "be",
        "by",
        "for",
        "from",
        "i",
        "in",
        "into",
        "is",
        "it",
        "me",
        "my",
        "near",
        "of",
        "on",
        "or",
        "our",
        "the",
        "to",
        "with",
    ]
)


def normalise_query(text: str | None) -> str:
    """Lower case, plain letters and digits, single spaces, at most 100 characters."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    text = re.sub(r"[^\w'&.-]+", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:MAX_QUERY_LENGTH].strip()


def _words(phrase: str) -> tuple[str, ...]:
    return tuple(word for word in re.split(r"[\W_]+", phrase) if word and word not in STOPWORDS)


def searchable_text(text: str) -> str:
    """Text as the database fallback stores it: lower-case words between single spaces,
    with a space at each end so ``" care"`` finds words starting with "care"."""
    words = re.split(r"[\W_]+", unicodedata.normalize("NFKC", text).lower())
    return f" {' '.join(word for word in words if word)} "


def word_pattern(word: str) -> str:
    """What the database fallback looks for: short words whole, longer words as a word start.

    Mirrors Elasticsearch's fuzziness AUTO closely enough that "pa" finds "PA" but
    not "Partners", while "care" still finds "carers".
    """
    return f" {word} " if len(word) <= 3 else f" {word}"


def _contains_phrase(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None


def query_alternatives(text: str | None) -> list[tuple[str, ...]]:
    """The query as alternative lists of words: a result must contain every word of one list.

    The first alternative is what the person typed (without filler words such as
    "the" or "near"); the others come from the synonym table.
    """
    normalised = normalise_query(text)
    if not normalised:
        return []
    alternatives: list[tuple[str, ...]] = []
    typed = _words(normalised)
    if typed:
        alternatives.append(typed)
    for phrases, meanings in SYNONYMS:
        if any(_contains_phrase(normalised, phrase) for phrase in phrases):
            for meaning in meanings:
                words = _words(meaning)
                if words and words not in alternatives:
                    alternatives.append(words)
    return alternatives
