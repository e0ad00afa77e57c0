"""Index lifecycle: a timestamped index behind an alias, so a rebuild never takes search down.

Search always reads the alias (``scc_services``). A rebuild creates a new
index (``scc_services_20261123132001123456``), bulk-loads it, points the alias
at it in one ``_aliases`` call, then deletes the old index. Searches running
during the rebuild keep reading the old index until the swap.
"""

from collections.abc import Iterable
from datetime import UTC, datetime

from elasticsearch import NotFoundError
from elasticsearch.helpers import bulk

from search.client import get_client, index_name

SERVICES = "services"


def alias_name(name: str = SERVICES) -> str:
    return index_name(name)


def _index_body(document_class) -> dict:
    return {
        "settings": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "1s"},
        "mappings": document_class._doc_type.mapping.to_dict(),
    }


def indexes_behind(alias: str) -> list[str]:
    """The concrete indexes the alias points at now (empty if it does not exist)."""
    client = get_client()
    try:
        return sorted(client.indices.get_alias(name=alias).keys())
    except NotFoundError:
        return []


def index_create(*, document_class, name: str = SERVICES) -> str:
    """Create a new, empty timestamped index for ``name``; return its name."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
    concrete = f"{alias_name(name)}_{stamp}"
    get_client().indices.create(index=concrete, **_index_body(document_class))
    return concrete


def bulk_load(*, index: str, documents: Iterable[dict], refresh: bool = False) -> int:
    """Bulk-load ``{"_id": ..., **source}`` documents into ``index``; return how many."""

    def actions():
        for document in documents:
            source = dict(document)
            yield {"_index": index, "_id": source.pop("_id"), "_source": source}

    loaded, errors = bulk(get_client(), actions(), chunk_size=1000, raise_on_error=True)
    if refresh:
        get_client().indices.refresh(index=index)
    return loaded


def alias_swap(*, new_index: str, name: str = SERVICES) -> list[str]:
    """Point the alias at ``new_index`` atomically; delete and return the indexes it left."""
    client = get_client()
    alias = alias_name(name)
    old = [index for index in indexes_behind(alias) if index != new_index]
    if client.indices.exists(index=alias) and not indexes_behind(alias):
        # A plain index squats on the alias's name (an old deployment): replace it.
        client.indices.delete(index=alias)
    actions = [{"remove": {"index": index, "alias": alias}} for index in old]
    actions.append({"add": {"index": new_index, "alias": alias}})
    client.indices.update_aliases(actions=actions)
    for index in old:
        client.indices.delete(index=index, ignore_unavailable=True)
    return old


def ensure_index(*, document_class, name: str = SERVICES) -> str:
    """Make sure the alias exists (an empty index behind it if need be); return the alias."""
    alias = alias_name(name)
    if not indexes_behind(alias):
        concrete = index_create(document_class=document_class, name=name)
        alias_swap(new_index=concrete, name=name)
    return alias


def index_drop(*, name: str = SERVICES) -> None:
    """Delete the alias and every index behind it (tests and `search_index --delete`)."""
    client = get_client()
    alias = alias_name(name)
    for index in indexes_behind(alias):
        client.indices.delete(index=index, ignore_unavailable=True)
    client.indices.delete(index=f"{alias}_*", ignore_unavailable=True, allow_no_indices=True)
