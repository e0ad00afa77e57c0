"""Writes for search: keeping both indexes in step with the directory, and the search log.

Both the Elasticsearch index (when ELASTICSEARCH_URL is set) and the database
fallback's SearchEntry table are built from the same ServiceDocument, so the
council can switch backends without a rebuild and results mean the same.
"""

import atexit
import contextlib
import logging
import threading
import time
from collections.abc import Iterable
from functools import lru_cache

from django.conf import settings
from django.core.signals import request_finished
from django.db import transaction
from django.utils import timezone

from config.tasks import enqueue_on_commit

from .documents.services import ServiceDocument, service_queryset
from .models import SearchEntry, SearchEntryLocation, SearchLog
from .text import normalise_query, searchable_text
from .vocabulary import vocabulary_add, vocabulary_replace

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


def _joined(values: Iterable[str]) -> str:
    values = [value for value in values if value]
    return f"|{'|'.join(values)}|" if values else ""


def _entry_for(document: dict) -> tuple[SearchEntry, list[tuple[float, float]]]:
    source = {key: value for key, value in document.items() if key != "_id"}
    entry = SearchEntry(
        service_id=document["_id"],
        organisation_id=source["organisation_id"],
        text=searchable_text(source["text"]),
        name=source["name"][:200],
        category=source["category"],
        sector=source["sector"] or "",
        care_groups=_joined(source["care_groups"]),
        languages=_joined(source["languages"]),
        days=_joined(source["days"]),
        accessibility=_joined(source["accessibility"]),
        areas=_joined(source["areas"]),
        min_price_pence=source["min_price_pence"],
        cqc_rating_rank=source["cqc_rating_rank"],
        takes_card=source["takes_card"],
        has_vacancies=source["has_vacancies"],
        rating_average=source["rating_average"],
        rating_count=source["rating_count"],
        document=source,
    )
    points = [(point["lat"], point["lon"]) for point in source["locations"]]
    return entry, points


def _database_write(documents: list[dict]) -> None:
    pairs = [_entry_for(document) for document in documents]
    SearchEntry.objects.filter(service_id__in=[entry.service_id for entry, _ in pairs]).delete()
    created = SearchEntry.objects.bulk_create([entry for entry, _ in pairs], batch_size=BATCH_SIZE)
    vocabulary_add(texts=[entry.text for entry, _ in pairs])
    SearchEntryLocation.objects.bulk_create(
        [
            SearchEntryLocation(entry=entry, latitude=lat, longitude=lon)
            for entry, (_, points) in zip(created, pairs, strict=True)
            for lat, lon in points
        ],
        batch_size=BATCH_SIZE,
    )


def _documents(service_ids: Iterable[int] | None = None):
    queryset = service_queryset().order_by("pk")
    if service_ids is not None:
        queryset = queryset.filter(pk__in=list(service_ids))
    for service in queryset.iterator(chunk_size=BATCH_SIZE):
        yield ServiceDocument.prepare(service)


def services_index_update(*, service_ids: Iterable[int], refresh: bool = False) -> int:
    """Bring the given services up to date in every index: published ones (re)written,
    the rest removed. Safe to repeat. Returns how many documents were written."""
    from elasticsearch.helpers import bulk

    from . import index
    from .client import get_client

    wanted = {int(service_id) for service_id in service_ids}
    documents = list(_documents(wanted))
    gone = wanted - {document["_id"] for document in documents}
    with transaction.atomic():
        SearchEntry.objects.filter(service_id__in=gone).delete()
        _database_write(documents)
    if settings.ELASTICSEARCH_URL:
        alias = index.ensure_index(document_class=ServiceDocument)
        actions = [
            {
                "_op_type": "index",
                "_index": alias,
                "_id": document["_id"],
                "_source": _source(document),
            }
            for document in documents
        ] + [{"_op_type": "delete", "_index": alias, "_id": service_id} for service_id in gone]
        if actions:
            bulk(
                get_client(), actions, raise_on_error=False, refresh="true" if refresh else "false"
            )
    return len(documents)


def _source(document: dict) -> dict:
    return {key: value for key, value in document.items() if key != "_id"}


def organisation_index_update(*, organisation_id: int, refresh: bool = False) -> int:
    """Re-index every service of an organisation (its name, sector or rating changed)."""
    from marketplace.providers.models import Service

    ids = Service.objects.filter(organisation_id=organisation_id).values_list("pk", flat=True)
    return services_index_update(service_ids=list(ids), refresh=refresh)


def service_index_queue(*, service_id: int) -> None:
    """Queue re-indexing of one service once the current transaction commits."""
    from .tasks import services_reindex

    enqueue_on_commit(services_reindex, [service_id])


def organisation_index_queue(*, organisation_id: int) -> None:
    """Queue re-indexing of an organisation's services once the current transaction commits."""
    from .tasks import organisation_reindex

    enqueue_on_commit(organisation_reindex, organisation_id)


def search_index_rebuild(*, refresh: bool = False, stdout=None) -> int:
    """Rebuild every index from the directory without taking search down.

    Elasticsearch: a new timestamped index is bulk-loaded, then the alias moves
    to it in one atomic call and the old index is deleted. Database fallback:
    the table is replaced inside one transaction, so readers see the old rows
    until it commits. Returns the number of documents indexed.
    """
    from . import index

    documents = list(_documents())
    with transaction.atomic():
        SearchEntry.objects.all().delete()
        vocabulary_replace(texts=[])
        for start in range(0, len(documents), BATCH_SIZE):
            _database_write(documents[start : start + BATCH_SIZE])
    if settings.ELASTICSEARCH_URL:
        new_index = index.index_create(document_class=ServiceDocument)
        index.bulk_load(index=new_index, documents=documents, refresh=True)
        old = index.alias_swap(new_index=new_index)
        if stdout:
            stdout.write(
                f"Alias {index.alias_name()} -> {new_index} (removed {', '.join(old) or 'nothing'})."
            )
    return len(documents)


_LOG_FIELDS = (
    "at",
    "query",
    "category",
    "care_group",
    "postcode_district",
    "filters",
    "result_count",
    "backend",
)


def _log_insert_sql(rows: int) -> str:
    """A plain INSERT of ``rows`` search log rows (columns from the model's metadata,
    quoted; every value a parameter)."""
    from django.db import connection

    return _log_insert_head(connection.vendor) + ", ".join([_log_row_placeholders()] * rows)


@lru_cache(maxsize=4)
def _log_insert_head(vendor: str) -> str:
    from django.db import connection

    quote = connection.ops.quote_name
    table = quote(SearchLog._meta.db_table)
    columns = ", ".join(quote(SearchLog._meta.get_field(name).column) for name in _LOG_FIELDS)
    return f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608


def _log_row_placeholders() -> str:
    return "(" + ", ".join(["%s"] * len(_LOG_FIELDS)) + ")"


# Rows written by one statement at most (PostgreSQL takes up to 65,535 parameters).
_LOG_CHUNK = 1000


class SearchLogWriter:
    """The process's search log rows waiting to be written, written together.

    One INSERT per search cost a busy web process more CPU than the rest of a search
    but Elasticsearch (the database's work, its WAL writer, the round trips). Rows wait
    in memory until there are ``SEARCH_LOG_BATCH_ROWS`` of them or the oldest has waited
    ``SEARCH_LOG_BATCH_SECONDS``, then go in one INSERT, in its own transaction, on
    PostgreSQL committed without waiting for the disk. Waiting rows are written:
      - by the search that makes the batch full or finds the oldest too old;
      - at the end of any later request of the process (``request_finished``), once the
        oldest is too old: load balancers' health checks keep that coming;
      - when the process exits (atexit; gunicorn stops its workers that way).
    A crash of the process loses the rows still waiting (at most a batch, or a few
    seconds of searches), as a database crash loses the last commits made without
    waiting for the disk. A batch that cannot be written is logged and kept for the
    next try, up to ``SEARCH_LOG_MAX_WAITING`` rows (the oldest go first).
    ``SEARCH_LOG_BATCH_ROWS = 1`` writes each row at once (the tests and ``make run``).
    """

    def __init__(self):
        self._rows: list[list] = []
        self._oldest = 0.0
        self._lock = threading.Lock()

    def add(self, values: list) -> None:
        with self._lock:
            if not self._rows:
                self._oldest = time.monotonic()
            self._rows.append(values)
        if self.due():
            self.flush()

    def due(self) -> bool:
        """Whether the waiting rows should be written now."""
        rows = self._rows
        return bool(rows) and (
            len(rows) >= settings.SEARCH_LOG_BATCH_ROWS
            or time.monotonic() - self._oldest >= settings.SEARCH_LOG_BATCH_SECONDS
        )

    @property
    def waiting(self) -> int:
        return len(self._rows)

    def discard(self) -> None:
        """Forget the waiting rows (tests)."""
        with self._lock:
            self._rows = []

    def flush(self) -> int:
        """Write every waiting row; returns how many were written."""
        from django.db import connection

        with self._lock:
            rows, self._rows = self._rows, []
            oldest = self._oldest
        if not rows:
            return 0
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    # For this transaction only: a visitor's worker never waits for a WAL
                    # flush to record searches (a database crash may lose the last moment).
                    cursor.execute("SET LOCAL synchronous_commit TO off")
                for start in range(0, len(rows), _LOG_CHUNK):
                    chunk = rows[start : start + _LOG_CHUNK]
                    cursor.execute(
                        _log_insert_sql(len(chunk)), [value for row in chunk for value in row]
                    )
        except Exception:
            logger.exception("%s search log rows not written; kept for the next try", len(rows))
            with self._lock:
                kept = (rows + self._rows)[-settings.SEARCH_LOG_MAX_WAITING :]
                dropped = len(rows) + len(self._rows) - len(kept)
                self._rows = kept
                self._oldest = oldest
            if dropped:
                logger.error("%s search log rows dropped: too many waiting", dropped)
            raise
        return len(rows)

    def flush_quietly(self) -> None:
        """Flush, logging a failure instead of raising it (a request's end, the exit)."""
        with contextlib.suppress(Exception):  # logged by flush; the rows are kept
            self.flush()


search_log_writer = SearchLogWriter()


def _flush_when_due(**kwargs) -> None:
    if search_log_writer.due():
        search_log_writer.flush_quietly()


# After close_old_connections (connected when Django's database layer loads): a due
# batch goes on the request's connection, or on a new one if that one was past its age.
request_finished.connect(_flush_when_due, dispatch_uid="search-log-flush-when-due")
atexit.register(search_log_writer.flush_quietly)


def search_log_flush() -> int:
    """Write the waiting search log rows now; returns how many."""
    return search_log_writer.flush()


def search_log_record(*, cleaned: dict, result_count: int, backend: str) -> None:
    """Log one search without personal data (written with others: SearchLogWriter).

    Guarantees: the query is normalised and cut to 100 characters; a postcode
    is reduced to its district (``N3 2SB`` -> ``N3``) and never stored whole;
    only the other filters' non-empty values are kept. Each value is prepared by
    its model field, as ``save()`` would, for a plain INSERT; nothing is read back.
    """
    from django.db import connection

    postcode = cleaned.get("postcode_district") or ""
    filters = {
        key: (str(value) if not isinstance(value, bool | int) else value)
        for key, value in cleaned.items()
        if key
        in {
            "distance",
            "max_price",
            "cqc_rating",
            "sector",
            "card",
            "language",
            "day",
            "vacancies",
            "accessibility",
            "sort",
        }
        and value not in (None, "", False)
    }
    log = SearchLog(
        at=timezone.now(),
        query=normalise_query(cleaned.get("q")),
        category=cleaned.get("category") or "",
        care_group=cleaned.get("care_group") or "",
        postcode_district=postcode[:4],
        filters=filters,
        result_count=result_count,
        backend=backend,
    )
    search_log_writer.add(
        [
            field.get_db_prep_save(getattr(log, field.attname), connection)
            for field in (SearchLog._meta.get_field(name) for name in _LOG_FIELDS)
        ]
    )


def services_index_catch_up(*, within_seconds: int) -> int:
    """Re-index services confirmed (details or vacancies) in the last ``within_seconds``.

    Provider confirmations skip model signals, so this sweep is what makes them
    searchable within a minute. Returns how many documents were written.
    """
    from datetime import timedelta

    from marketplace.providers.models import Service

    since = timezone.now() - timedelta(seconds=within_seconds)
    ids = list(Service.objects.filter(last_confirmed_at__gte=since).values_list("pk", flat=True))
    return services_index_update(service_ids=ids) if ids else 0
