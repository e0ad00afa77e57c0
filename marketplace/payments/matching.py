"""Matching card merchants to directory providers.

A card statement says "SQ *BRIGHTCARE HOMECA N3"; commissioners need "home
care from Bright Care Home Care Ltd". We match on three things, strongest
first: a Stripe merchant id or a merchant name an officer already confirmed
(the MerchantAlias table), then the merchant's name compared token by token
with providers' names, helped by the postcode of the shop against the
providers' service locations. The result carries a confidence from 0 to 100;
below ``MATCH_THRESHOLD`` the purchase keeps no provider and waits for an
officer on the matching screen.
"""

import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.db.models import Count, Max

from marketplace.providers.models import Organisation
from marketplace.providers.taxonomy import ServiceCategory

from .mcc import category_for_mcc
from .models import MerchantAlias

MATCH_THRESHOLD = 80
# Matches below this are shown to officers to check, even though they matched.
REVIEW_BELOW = 90

# Prefixes card acquirers put before the trading name.
_ACQUIRER_PREFIX = re.compile(
    r"^(sq|sqr|sumup|sum up|iz|izettle|zettle|pp|paypal|sp|stripe|tst|crv|gc|goc|wpy|ws)\s*[*_]\s*",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"[^a-z0-9]+")
_STOPWORDS = frozenset(
    {
        "ltd", "limited", "plc", "llp", "cic", "inc", "the", "and", "of", "co", "uk",
        "gb", "company", "london", "www", "com", "org", "t", "a",
    }
)  # fmt: skip
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?)\s*([0-9][A-Z]{2})?$")


def merchant_key(name: str) -> str:
    """The normalised form of a merchant or provider name: lower case, no noise words.

    ``"SQ *Bright-Care Home Care Ltd 0042"`` -> ``"bright care home care"``.
    """
    text = _ACQUIRER_PREFIX.sub("", (name or "").strip())
    tokens = [
        token
        for token in _NON_WORD.split(text.lower().replace("&", " and "))
        if token and token not in _STOPWORDS and not token.isdigit()
    ]
    return " ".join(tokens)[:200]


def normalise_postcode(postcode: str) -> str:
    compact = re.sub(r"\s+", "", (postcode or "").upper())
    if len(compact) > 3:
        return f"{compact[:-3]} {compact[-3:]}"
    return compact


def postcode_district(postcode: str) -> str:
    normal = normalise_postcode(postcode)
    return normal.split(" ")[0] if normal else ""


def _tokens_match(a: str, b: str) -> bool:
    # Card descriptors are cut short (22 characters), so "homeca" matches "homecare".
    if a == b:
        return True
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    return len(shorter) >= 4 and longer.startswith(shorter)


def name_similarity(key_a: str, key_b: str) -> int:
    """0-100: how alike two normalised names are, by shared words and by spelling."""
    if not key_a or not key_b:
        return 0
    tokens_a, tokens_b = key_a.split(), key_b.split()
    matched_b: set[int] = set()
    shared = 0
    for token in tokens_a:
        for index, other in enumerate(tokens_b):
            if index not in matched_b and _tokens_match(token, other):
                matched_b.add(index)
                shared += 1
                break
    dice = 2 * shared / (len(tokens_a) + len(tokens_b))
    spelling = SequenceMatcher(None, key_a.replace(" ", ""), key_b.replace(" ", "")).ratio()
    return round(100 * max(dice, spelling * 0.95))


@dataclass(frozen=True)
class MatchResult:
    organisation_id: int | None
    confidence: int
    category: str
    method: str  # "merchant_id", "alias", "name", "mcc" or "none"
    suggestion_id: int | None = None  # the best candidate, even below the threshold


@dataclass
class _Provider:
    pk: int
    key: str
    postcodes: set
    districts: set
    categories: Counter


class MerchantIndex:
    """Providers' normalised names, postcodes and categories, indexed by word."""

    def __init__(self, providers: list[_Provider]):
        self.providers = {provider.pk: provider for provider in providers}
        self.by_token: dict[str, set[int]] = defaultdict(set)
        self.by_prefix: dict[str, set[int]] = defaultdict(set)
        for provider in providers:
            for token in provider.key.split():
                self.by_token[token].add(provider.pk)
                for length in range(4, len(token)):
                    self.by_prefix[token[:length]].add(provider.pk)

    @classmethod
    def build(cls) -> "MerchantIndex":
        from marketplace.providers.models import Service, ServiceLocation

        providers = {
            pk: _Provider(
                pk=pk,
                key=merchant_key(name),
                postcodes=set(),
                districts=set(),
                categories=Counter(),
            )
            for pk, name in Organisation.objects.values_list("pk", "name")
        }
        for organisation_id, category in Service.objects.values_list("organisation_id", "category"):
            if organisation_id in providers:
                providers[organisation_id].categories[category] += 1
        for organisation_id, postcode in ServiceLocation.objects.values_list(
            "service__organisation_id", "postcode"
        ):
            if organisation_id in providers and postcode:
                providers[organisation_id].postcodes.add(normalise_postcode(postcode))
                providers[organisation_id].districts.add(postcode_district(postcode))
        return cls(list(providers.values()))

    def candidates(self, key: str, limit: int = 25) -> list[int]:
        """Providers sharing most words with the merchant, allowing for words cut short either way.

        Only the ``limit`` providers sharing the most words are scored in full,
        so a common word ("care") does not make every match slow.
        """
        hits: Counter = Counter()
        for token in key.split():
            found = set(self.by_token.get(token, ()))
            if len(token) >= 4:
                # A card descriptor cut short: "homeca" is the start of "homecare".
                found |= self.by_prefix.get(token, set())
                # Words run together: "brightcare" starts with the provider's "bright".
                for length in range(4, len(token)):
                    found |= self.by_token.get(token[:length], set())
            hits.update(found)
        return [pk for pk, _ in sorted(hits.items(), key=lambda item: (-item[1], item[0]))[:limit]]

    def best(self, key: str, postcode: str) -> tuple[int | None, int]:
        """The most likely provider for a merchant, and the confidence (0-100)."""
        normal = normalise_postcode(postcode)
        district = postcode_district(postcode)
        best_id, best_score = None, 0
        for pk in self.candidates(key):
            provider = self.providers[pk]
            score = name_similarity(key, provider.key) * 0.85
            if normal and normal in provider.postcodes:
                score += 15
            elif district and district in provider.districts:
                score += 8
            score = min(99, round(score))
            if score > best_score or (score == best_score and best_id is not None and pk < best_id):
                best_id, best_score = pk, score
        return best_id, best_score

    def category_for(self, organisation_id: int, mcc: str) -> str:
        """The provider's own category that fits the merchant code, else its main category."""
        provider = self.providers.get(organisation_id)
        by_mcc = category_for_mcc(mcc) if mcc else ServiceCategory.OTHER
        if provider is None or not provider.categories:
            return by_mcc
        if by_mcc in provider.categories:
            return by_mcc
        return provider.categories.most_common(1)[0][0]


_cache_lock = threading.Lock()
_cache: dict = {"signature": None, "index": None, "checked": 0.0}


def merchant_index() -> MerchantIndex:
    """The index, rebuilt when providers or their locations change (checked at most once a second)."""
    from marketplace.providers.models import ServiceLocation

    with _cache_lock:
        now = time.monotonic()
        if _cache["index"] is not None and now - _cache["checked"] < 1.0:
            return _cache["index"]
        signature = (
            tuple(Organisation.objects.aggregate(n=Count("pk"), at=Max("updated_at")).values()),
            ServiceLocation.objects.count(),
        )
        if _cache["index"] is None or signature != _cache["signature"]:
            _cache["index"] = MerchantIndex.build()
            _cache["signature"] = signature
        _cache["checked"] = now
        return _cache["index"]


def merchant_index_clear() -> None:
    with _cache_lock:
        _cache.update(signature=None, index=None, checked=0.0)


class MerchantAliases:
    """Every learned alias, read in one query: for matching many merchants at once (imports)."""

    def __init__(self):
        self.by_stripe_id: dict[str, int] = {}
        self.by_key: dict[str, dict[str, int]] = defaultdict(dict)
        for key, postcode, stripe_id, organisation_id in MerchantAlias.objects.values_list(
            "merchant_key", "postcode", "stripe_merchant_id", "organisation_id"
        ):
            if stripe_id:
                self.by_stripe_id[stripe_id] = organisation_id
            else:
                self.by_key[key][postcode] = organisation_id


def _alias_for_stripe_id(stripe_merchant_id: str, aliases: MerchantAliases | None) -> int | None:
    if aliases is not None:
        return aliases.by_stripe_id.get(stripe_merchant_id)
    alias = MerchantAlias.objects.filter(stripe_merchant_id=stripe_merchant_id).first()
    return alias.organisation_id if alias is not None else None


def _aliases_for_key(key: str, aliases: MerchantAliases | None) -> dict[str, int]:
    if aliases is not None:
        return aliases.by_key.get(key, {})
    return {
        alias.postcode: alias.organisation_id
        for alias in MerchantAlias.objects.filter(merchant_key=key, stripe_merchant_id="")
    }


def merchant_match(
    *,
    merchant_name: str,
    merchant_postcode: str = "",
    stripe_merchant_id: str = "",
    merchant_category_code: str = "",
    index: MerchantIndex | None = None,
    aliases: MerchantAliases | None = None,
) -> MatchResult:
    """Find the directory provider behind a card merchant, with a confidence.

    Reads only; never changes a purchase. Without a confident match the
    category falls back to the merchant category code. ``index`` and
    ``aliases``, when given, are used instead of reading them (an import
    reads each once for all its merchants).
    """
    key = merchant_key(merchant_name)
    mcc_category = category_for_mcc(merchant_category_code)
    index = index or merchant_index()
    if stripe_merchant_id:
        organisation_id = _alias_for_stripe_id(stripe_merchant_id, aliases)
        if organisation_id is not None:
            return MatchResult(
                organisation_id,
                100,
                index.category_for(organisation_id, merchant_category_code),
                "merchant_id",
            )
    if key:
        aliases = _aliases_for_key(key, aliases)
        normal = normalise_postcode(merchant_postcode)
        organisation_id = aliases.get(normal) if normal else None
        confidence = 98
        if organisation_id is None and "" in aliases:
            organisation_id, confidence = aliases[""], 95
        if organisation_id is not None:
            return MatchResult(
                organisation_id,
                confidence,
                index.category_for(organisation_id, merchant_category_code),
                "alias",
            )
        best_id, score = index.best(key, merchant_postcode)
        if best_id is not None and score >= MATCH_THRESHOLD:
            return MatchResult(
                best_id, score, index.category_for(best_id, merchant_category_code), "name"
            )
        if best_id is not None:
            method = "mcc" if merchant_category_code else "none"
            return MatchResult(None, score, mcc_category, method, suggestion_id=best_id)
    return MatchResult(None, 0, mcc_category, "mcc" if merchant_category_code else "none")


@dataclass(frozen=True)
class PurchaseMatch:
    """What a card purchase records about its merchant."""

    organisation_id: int | None
    category: str
    status: str  # a MatchStatus value
    confidence: int


def purchase_match(
    *,
    merchant_name: str,
    merchant_postcode: str = "",
    stripe_merchant_id: str = "",
    merchant_category_code: str = "",
    index: MerchantIndex | None = None,
    aliases: MerchantAliases | None = None,
) -> PurchaseMatch:
    """The provider, category, match status and confidence a card purchase is recorded with.

    The one rule for every card channel (``purchase_record`` for Stripe
    Issuing, the statement import for each distinct merchant of a file): a
    confident match gives the provider and its category for the merchant
    code ("matched"); otherwise no provider, the merchant code's category,
    and "category only" when there is a merchant code, else "unmatched".
    The confidence is the best candidate's, even below the threshold.
    """
    from .models import MatchStatus

    result = merchant_match(
        merchant_name=merchant_name,
        merchant_postcode=merchant_postcode,
        stripe_merchant_id=stripe_merchant_id,
        merchant_category_code=merchant_category_code,
        index=index,
        aliases=aliases,
    )
    if result.organisation_id is not None:
        return PurchaseMatch(
            result.organisation_id, result.category, MatchStatus.MATCHED, result.confidence
        )
    status = MatchStatus.CATEGORY_ONLY if merchant_category_code else MatchStatus.UNMATCHED
    return PurchaseMatch(None, category_for_mcc(merchant_category_code), status, result.confidence)
