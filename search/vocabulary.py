"""Typo tolerance for the database fallback, with the same rule as Elasticsearch.

Elasticsearch's ``fuzziness: AUTO`` lets a query word match any indexed term
within an edit distance that depends on the word's length (0 edits below 3
characters, 1 edit for 3-5, 2 edits from 6), counting a swap of two
neighbouring letters as one edit, and expands to at most 50 terms. Here the
indexed terms are the ``SearchTerm`` table (every word of every entry's
``text``), and ``corrections`` applies that same rule in Python, so SQLite and
PostgreSQL answer "Hendn day centr" as Elasticsearch does.
"""

from functools import lru_cache

from django.db.models import Count, Max

from .models import SearchTerm

MAX_EXPANSIONS = 50  # Elasticsearch's default for fuzzy matches
MAX_TERM_LENGTH = 100


def edit_budget(word: str) -> int:
    """Edits allowed for ``word``: Elasticsearch's ``AUTO`` (``AUTO:3,6``)."""
    if len(word) < 3:
        return 0
    return 1 if len(word) < 6 else 2


def edit_distance(left: str, right: str, limit: int) -> int:
    """Damerau-Levenshtein distance (optimal string alignment) of two words, or
    ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(left) - len(right)) > limit:
        return limit + 1
    previous_previous: list[int] | None = None
    previous = list(range(len(right) + 1))
    for i, left_char in enumerate(left, start=1):
        current = [i] + [0] * len(right)
        for j, right_char in enumerate(right, start=1):
            cost = 0 if left_char == right_char else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if (
                previous_previous is not None
                and j > 1
                and left_char == right[j - 2]
                and left[i - 2] == right_char
            ):
                value = min(value, previous_previous[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous_previous, previous = previous, current
    return previous[-1]


def terms_of(text: str) -> set[str]:
    """The vocabulary words in a SearchEntry's ``text`` (already lower-case, space-separated)."""
    return {word for word in text.split() if len(word) <= MAX_TERM_LENGTH}


def vocabulary_add(*, texts) -> None:
    """Record the words of newly indexed texts (words never seen before are inserted)."""
    words: set[str] = set()
    for text in texts:
        words |= terms_of(text)
    if words:
        SearchTerm.objects.bulk_create(
            [SearchTerm(term=word) for word in sorted(words)],
            batch_size=1000,
            ignore_conflicts=True,
        )
    _forget()


def vocabulary_replace(*, texts) -> None:
    """Replace the whole vocabulary (a full rebuild drops words no service uses any more)."""
    SearchTerm.objects.all().delete()
    _forget()
    vocabulary_add(texts=texts)


def vocabulary_version() -> tuple:
    """Changes whenever the table does (one aggregate query); writes in this process
    also clear the caches, since SQLite may reuse ids after a full replace."""
    found = SearchTerm.objects.aggregate(latest=Max("pk"), count=Count("pk"))
    return (found["latest"], found["count"])


def _forget() -> None:
    _terms_by_length.cache_clear()
    _corrections.cache_clear()


@lru_cache(maxsize=4)
def _terms_by_length(version: tuple) -> dict[int, tuple[tuple[str, frozenset], ...]]:
    """The vocabulary by word length, each word with its set of letters."""
    by_length: dict[int, list[str]] = {}
    for term in SearchTerm.objects.values_list("term", flat=True).iterator(chunk_size=5000):
        by_length.setdefault(len(term), []).append(term)
    return {
        length: tuple((term, frozenset(term)) for term in sorted(terms))
        for length, terms in by_length.items()
    }


@lru_cache(maxsize=2048)
def _corrections(word: str, version: tuple) -> tuple[str, ...]:
    limit = edit_budget(word)
    if not limit:
        return ()
    by_length = _terms_by_length(version)
    letters = frozenset(word)
    found = []
    for length in range(len(word) - limit, len(word) + limit + 1):
        for term, term_letters in by_length.get(length, ()):
            # One edit changes the set of letters by at most two: a cheap, exact pre-check.
            if term != word and len(letters ^ term_letters) <= 2 * limit:
                distance = edit_distance(word, term, limit)
                if distance <= limit:
                    found.append((distance, term))
    found.sort()
    return tuple(term for _, term in found[:MAX_EXPANSIONS])


def corrections(word: str, *, version: tuple | None = None) -> tuple[str, ...]:
    """Indexed words within ``word``'s edit budget (nearest first, at most 50), not ``word``.

    ``version`` (from ``vocabulary_version()``) saves the query when correcting several words.
    """
    if not edit_budget(word):
        return ()
    return _corrections(word.lower(), version or vocabulary_version())
