from django.db import models


class SearchBackend(models.TextChoices):
    ELASTICSEARCH = "elasticsearch", "Elasticsearch"
    DATABASE = "database", "Database"


class SearchLog(models.Model):
    """One directory search, kept without personal data.

    The query text is normalised and truncated, and only the postcode district
    (``N3``, never ``N3 2SB``) is stored, so a log row cannot point at a person.
    Searches that found nothing are the council's record of unmet demand.
    """

    at = models.DateTimeField(db_index=True)
    query = models.CharField(max_length=100, blank=True)
    category = models.CharField(max_length=40, blank=True)
    care_group = models.CharField(max_length=40, blank=True)
    postcode_district = models.CharField(max_length=4, blank=True)
    filters = models.JSONField(default=dict, blank=True)
    result_count = models.PositiveIntegerField()
    backend = models.CharField(max_length=20, choices=SearchBackend.choices)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["result_count", "at"], name="search_log_unmet_idx")]

    def __str__(self) -> str:
        return f"{self.query or '(no words)'} – {self.result_count} results"

    @property
    def found_nothing(self) -> bool:
        return self.result_count == 0


class SearchEntry(models.Model):
    """The database fallback's index: one row per live service, built from the same document
    Elasticsearch receives (search.documents.services.ServiceDocument.prepare).

    Multi-valued keywords are stored as ``|a|b|`` so "has value a" is one portable
    ``contains`` on SQLite and PostgreSQL alike.
    """

    service_id = models.PositiveBigIntegerField(unique=True)
    organisation_id = models.PositiveBigIntegerField(db_index=True)
    text = models.TextField(help_text="Lower-case words searched by free text.")
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=40, db_index=True)
    sector = models.CharField(max_length=40, blank=True)
    care_groups = models.CharField(max_length=200, blank=True)
    languages = models.CharField(max_length=500, blank=True)
    days = models.CharField(max_length=100, blank=True)
    accessibility = models.CharField(max_length=500, blank=True)
    areas = models.CharField(max_length=1000, blank=True)
    min_price_pence = models.PositiveIntegerField(null=True, blank=True)
    cqc_rating_rank = models.PositiveSmallIntegerField(default=0)
    takes_card = models.BooleanField(default=False)
    has_vacancies = models.BooleanField(default=False)
    rating_average = models.FloatField(null=True, blank=True)
    rating_count = models.PositiveIntegerField(default=0)
    document = models.JSONField(help_text="The whole search document, for showing results.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SearchEntryLocation(models.Model):
    """A place a service is delivered from, for distance filters in the database fallback."""

    entry = models.ForeignKey(SearchEntry, on_delete=models.CASCADE, related_name="locations")
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["latitude", "longitude"], name="search_entry_loc_idx")]

    def __str__(self) -> str:
        return f"{self.latitude:.4f}, {self.longitude:.4f}"


class SearchTerm(models.Model):
    """One word that occurs in some service's searchable text: the database fallback's
    vocabulary for correcting typing mistakes (search.vocabulary), as Elasticsearch's
    fuzzy matching does against its own term dictionary."""

    term = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.term
