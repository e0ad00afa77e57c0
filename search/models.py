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
