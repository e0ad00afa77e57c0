"""The audit trail of personal data: who viewed or changed whose record."""

from collections.abc import Iterable

from django.db import models
from django.http import HttpRequest

from .models import AuditAction, AuditEvent, BudgetHolder, User


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    actor: User | None,
    action: AuditAction,
    obj: models.Model,
    summary: str,
    budget_holder: BudgetHolder | None = None,
    changed_fields: Iterable[str] = (),
    ip_address: str | None = None,
) -> AuditEvent:
    """Write one audit event. The summary names the record, never its personal contents."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        budget_holder=budget_holder,
        summary=summary[:300],
        changed_fields=sorted(changed_fields),
        ip_address=ip_address,
    )
