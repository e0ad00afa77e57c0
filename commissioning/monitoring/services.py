"""Writes for monitoring: raising cases from the rules, and an officer's work on a case."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.accounts.audit import audit_record
from marketplace.accounts.models import AuditAction, BudgetHolder
from marketplace.accounts.permissions import Scope, can_act_for

from .models import (
    CaseNote,
    CaseStatus,
    Clawback,
    EvidenceRequest,
    MonitoringCase,
    MonitoringSettings,
    Outcome,
)
from .rules import RULES, Finding


class CaseError(Exception):
    """A change to a case that cannot be made; the message is for the officer."""


def monitoring_case_raise(*, finding: Finding, now=None) -> tuple[MonitoringCase, bool]:
    """Open a case for a finding, or refresh the open one; returns ``(case, created)``.

    Guarantees: at most one open case per rule per budget, even when two
    runs overlap (a partial unique constraint); an existing open case gets
    the newest evidence and keeps its history.
    """
    now = now or timezone.now()
    with transaction.atomic():
        case = (
            MonitoringCase.objects.select_for_update()
            .open()
            .filter(budget_id=finding.budget_id, rule=finding.rule)
            .first()
        )
        if case is not None:
            case.summary = finding.summary[:300]
            case.evidence = finding.evidence
            case.amount_pence = finding.amount_pence
            case.last_seen_at = now
            case.save(update_fields=["summary", "evidence", "amount_pence", "last_seen_at"])
            return case, False
        try:
            with transaction.atomic():
                case = MonitoringCase.objects.create(
                    budget_id=finding.budget_id,
                    budget_holder_id=finding.budget_holder_id,
                    rule=finding.rule,
                    summary=finding.summary[:300],
                    evidence=finding.evidence,
                    amount_pence=finding.amount_pence,
                    opened_at=now,
                    last_seen_at=now,
                )
        except IntegrityError:
            return MonitoringCase.objects.open().get(
                budget_id=finding.budget_id, rule=finding.rule
            ), False
        return case, True


def monitoring_rules_run(*, on: date | None = None, rules=None) -> dict[str, dict[str, int]]:
    """Run every rule (or the named ones) and raise cases; returns counts per rule.

    Guarantees: running twice on the same data opens no new cases.
    """
    on = on or timezone.localdate()
    config = MonitoringSettings.load()
    results = {}
    for rule, check in RULES.items():
        if rules and rule not in rules:
            continue
        opened = refreshed = 0
        for finding in check(on=on, config=config):
            _, created = monitoring_case_raise(finding=finding)
            opened += created
            refreshed += not created
        results[str(rule)] = {"opened": opened, "refreshed": refreshed}
    return results


def _audit(officer, case: MonitoringCase, summary: str, action=AuditAction.CHANGED, fields=()):
    audit_record(
        actor=officer,
        action=action,
        obj=case,
        budget_holder=case.budget_holder,
        summary=summary,
        changed_fields=fields,
    )


@transaction.atomic
def case_note_add(*, case: MonitoringCase, author, text: str) -> CaseNote:
    """Add an officer's note to a case. Notes are never edited."""
    note = CaseNote.objects.create(case=case, author=author, text=text.strip())
    _audit(author, case, f"Note added to monitoring case {case.pk}", AuditAction.CREATED)
    return note


@transaction.atomic
def evidence_request_create(
    *, case: MonitoringCase, officer, message: str, due_on: date
) -> EvidenceRequest:
    """Ask the budget holder (or their proxy) to explain; the case waits for the answer."""
    case = MonitoringCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise CaseError("This case is closed.")
    if due_on < timezone.localdate():
        raise CaseError("The answer cannot be due in the past.")
    request = EvidenceRequest.objects.create(
        case=case, message=message.strip(), due_on=due_on, requested_by=officer
    )
    case.status = CaseStatus.AWAITING_EVIDENCE
    case.save(update_fields=["status"])
    _audit(officer, case, f"Evidence requested on monitoring case {case.pk}", fields=["status"])
    return request


def may_answer(user, budget_holder: BudgetHolder) -> bool:
    """The person, or a proxy allowed to manage the budget (which covers the council's questions)."""
    return budget_holder.user_id == user.pk or can_act_for(user, budget_holder, Scope.MANAGE)


@transaction.atomic
def evidence_request_answer(*, request: EvidenceRequest, user, response: str) -> EvidenceRequest:
    """The budget holder or proxy answers; the case goes back to the officer."""
    request = EvidenceRequest.objects.select_for_update().select_related("case").get(pk=request.pk)
    case = request.case
    if not may_answer(user, case.budget_holder):
        raise CaseError("You cannot answer for this person.")
    if request.answered:
        raise CaseError("This question has already been answered.")
    request.response = response.strip()
    request.responded_by = user
    request.responded_at = timezone.now()
    request.save(update_fields=["response", "responded_by", "responded_at"])
    if case.is_open and not case.evidence_requests.filter(responded_at__isnull=True).exists():
        case.status = CaseStatus.OPEN
        case.save(update_fields=["status"])
    _audit(user, case, f"Answer given on monitoring case {case.pk}", fields=["response"])
    return request


def clawback_create(*, case: MonitoringCase, officer, amount_pence: int, reason: str) -> Clawback:
    """Recover money from the budget for this case: one ledger entry, once.

    Guarantees: the amount is above zero and no more than the money in the
    budget; a case recovers money once (the ledger source is the case), and
    the clawback and its ledger entry are written together or not at all.
    """
    from marketplace.budgets.services import budget_clawback_post

    if amount_pence <= 0:
        raise CaseError("The amount to recover must be more than £0.")
    with transaction.atomic():
        case = (
            MonitoringCase.objects.select_for_update()
            .select_related("budget_holder", "budget")
            .get(pk=case.pk)
        )
        if not case.is_open:
            raise CaseError("This case is closed.")
        if case.clawbacks.exists():
            raise CaseError("Money has already been recovered on this case.")
        # The money comes back from the budget the case is about, never another year's.
        budget = case.budget
        reference = f"monitoring_case:{case.pk}"
        try:
            budget_clawback_post(
                budget=budget,
                amount_pence=amount_pence,
                source_type="monitoring_case",
                source_id=str(case.pk),
                occurred_on=timezone.localdate(),
                memo=f"Recovered by the council: {reason}"[:300],
            )
        except ValueError as error:
            raise CaseError(str(error)) from error
        clawback = Clawback.objects.create(
            case=case,
            budget_holder=case.budget_holder,
            amount_pence=amount_pence,
            reason=reason[:300],
            confirmed_by=officer,
            ledger_reference=reference,
        )
        _audit(
            officer,
            case,
            f"Clawback of {amount_pence}p on monitoring case {case.pk}",
            AuditAction.CREATED,
        )
    return clawback


@transaction.atomic
def case_close(*, case: MonitoringCase, officer, outcome: str, note: str = "") -> MonitoringCase:
    """Close a case with its outcome. A closed case stays as it was; the rule may open a new one."""
    case = MonitoringCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise CaseError("This case is already closed.")
    if outcome == Outcome.CLAWBACK and not case.clawbacks.exists():
        raise CaseError("Record the money recovered before closing the case as recovered.")
    case.status = CaseStatus.CLOSED
    case.outcome = outcome
    case.outcome_note = note.strip()
    case.closed_by = officer
    case.closed_at = timezone.now()
    case.save(update_fields=["status", "outcome", "outcome_note", "closed_by", "closed_at"])
    _audit(
        officer, case, f"Monitoring case {case.pk} closed: {outcome}", fields=["status", "outcome"]
    )
    return case
