"""Commissioners' pages: the dashboard, exports, the Market Position Statement and the API.

Views are thin: parameters come from ``params``, tables from ``reports``,
and disclosure control decides what each person may see.
"""

import csv
import io
from decimal import Decimal

from django.http import Http404, HttpResponse, JsonResponse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from marketplace.accounts.access import RoleRequiredMixin
from marketplace.accounts.roles import Role

from . import reports
from .disclosure import DisclosureError, analyst_figures, may_see_unrounded, published_figures
from .models import MarketPositionCommentary, MarketPositionSection
from .params import FILTER_DIMENSIONS, BadParameters, parse_query
from .selectors import (
    DIMENSION_LABELS,
    DemandQuery,
    default_period,
    demand_backend,
    demand_with_changes,
    dimension_choices,
    label_rows,
    percent_change,
)

BREAKDOWNS = ("category", "locality", "care_group", "provider", "sector", "channel")


class CommissionerMixin(RoleRequiredMixin):
    required_roles = (Role.COMMISSIONER,)


def _headline(query: DemandQuery, published: bool) -> dict:
    def total(q):
        rows = published_figures(query=q).rows if published else analyst_figures(query=q)
        return rows[0] if rows else {"spend_pence": 0, "purchases": 0, "holders": 0}

    now = total(query)
    before = total(query.previous_period())
    year = total(query.last_year())
    return {
        "now": now,
        "change_previous": percent_change(now.get("spend_pence"), before.get("spend_pence")),
        "change_last_year": percent_change(now.get("spend_pence"), year.get("spend_pence")),
        "people_change_previous": percent_change(now.get("holders"), before.get("holders")),
    }


class DashboardView(CommissionerMixin, TemplateView):
    template_name = "demand/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        errors = []
        try:
            query = parse_query(self.request.GET, group_by_param="_none")
        except BadParameters as error:
            errors.append(str(error))
            start, end = default_period()
            query = DemandQuery(start=start, end=end)
        by = self.request.GET.get("by", "category")
        if by not in BREAKDOWNS:
            by = "category"
        published = not may_see_unrounded(self.request.user)
        tables = []
        try:
            tables.append(
                reports.breakdown_table(
                    query=query, by=by, published=published, drill=reports.DRILL_NEXT
                )
            )
            tables.append(reports.monthly_table(query=query, published=published))
            headline = _headline(query, published)
        except DisclosureError as error:
            errors.append(str(error))
            headline = None
        if not errors:
            tables.append(reports.sector_table(query=query, published=published))
        tables += [
            reports.concentration_table(query=query, published=published),
            reports.price_table(query=query, published=published),
            reports.block_contract_table(query=query, published=published),
            reports.unmet_table(query=query, published=published),
            reports.thin_supply_table(),
            reports.unspent_table(published=published),
            reports.take_up_table(published=published),
        ]
        filters = query.filter_dict
        context.update(
            query=query,
            errors=errors,
            headline=headline,
            tables=tables,
            by=by,
            published=published,
            backend=demand_backend(),
            breakdowns=[(name, DIMENSION_LABELS[name]) for name in BREAKDOWNS],
            filter_fields=[
                {
                    "name": name,
                    "label": DIMENSION_LABELS[name],
                    "choices": dimension_choices(name),
                    "selected": (filters.get(name) or ("",))[0],
                }
                for name in FILTER_DIMENSIONS
            ],
            from_value=query.start.isoformat()[:7],
            to_value=query.end.isoformat()[:7],
            export_query=self.request.GET.urlencode(),
            table_slugs=reports.TABLE_SLUGS,
        )
        return context


def _cell_text(value, kind: str) -> str:
    if value is None:
        return reports.SUPPRESSED_TEXT if kind in ("pence", "count") else ""
    if kind == "pence":
        return f"{Decimal(int(value)) / 100:.2f}"
    return str(value)


class ExportView(CommissionerMixin, View):
    """One table as CSV or XLSX, always with disclosure control applied (it leaves the council)."""

    def get(self, request, slug: str, fmt: str):
        if slug not in reports.TABLE_SLUGS or fmt not in ("csv", "xlsx"):
            raise Http404("No such table.")
        try:
            query = parse_query(request.GET, group_by_param="_none")
            table = reports.build_table(slug, query=query, published=True)
        except (BadParameters, DisclosureError) as error:
            return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
        headers = [c.label + (" (£)" if c.kind == "pence" else "") for c in table.columns]
        rows = [[_cell_text(row.get(c.key), c.kind) for c in table.columns] for row in table.rows]
        period = f"{query.start:%Y-%m}-to-{query.end:%Y-%m}"
        filename = f"{slug}-{period}.{fmt}"
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow([table.title, f"{query.start:%B %Y} to {query.end:%B %Y}"])
            writer.writerow(headers)
            writer.writerows(rows)
            if table.note:
                writer.writerow([])
                writer.writerow([table.note])
            response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        else:
            from openpyxl import Workbook

            workbook = Workbook()
            sheet = workbook.active
            sheet.title = slug[:31]
            sheet.append([table.title, f"{query.start:%B %Y} to {query.end:%B %Y}"])
            sheet.append(headers)
            for row, source in zip(rows, table.rows, strict=True):
                values = []
                for text, column in zip(row, table.columns, strict=True):
                    value = source.get(column.key)
                    if column.kind == "pence" and value is not None:
                        values.append(Decimal(int(value)) / 100)
                    elif column.kind in ("count", "share", "percent") and value is not None:
                        values.append(value)
                    else:
                        values.append(text)
                sheet.append(values)
            if table.note:
                sheet.append([])
                sheet.append([table.note])
            buffer = io.BytesIO()
            workbook.save(buffer)
            response = HttpResponse(
                buffer.getvalue(),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


MPS_TABLES = (
    ("demand", ("by-category", "by-locality", "by-care_group", "by-month")),
    ("prices", ("prices",)),
    ("market", ("by-sector", "concentration", "block-contracts")),
    ("gaps", ("unmet-demand", "thin-supply", "unspent", "take-up")),
)


def _statement(query: DemandQuery) -> list[dict]:
    commentary = {c.section: c for c in MarketPositionCommentary.objects.all()}
    tables = dict(MPS_TABLES)
    sections = []
    for section, label in MarketPositionSection.choices:
        built = [
            reports.build_table(slug, query=query, published=True)
            for slug in tables.get(section, ())
        ]
        sections.append(
            {"key": section, "title": label, "commentary": commentary.get(section), "tables": built}
        )
    return sections


class MarketPositionStatementView(CommissionerMixin, TemplateView):
    """A statement a council could publish: every figure passes disclosure control."""

    template_name = "demand/market_position_statement.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            query = parse_query(self.request.GET, group_by_param="_none")
        except BadParameters:
            start, end = default_period()
            query = DemandQuery(start=start, end=end)
        context.update(query=query, sections=_statement(query), generated=timezone.localdate())
        return context


class MarketPositionStatementPdfView(CommissionerMixin, View):
    def get(self, request):
        from .pdf import statement_pdf

        try:
            query = parse_query(request.GET, group_by_param="_none")
        except BadParameters as error:
            return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
        content = statement_pdf(query=query, sections=_statement(query))
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="market-position-statement-{query.end:%Y-%m}.pdf"'
        )
        return response


def demand_api(request):
    """GET /api/commissioning/demand: figures as JSON, with suppression for the caller's role."""
    if request.method != "GET":
        return JsonResponse({"error": "Only GET is supported."}, status=405)
    user = request.user
    if not user.is_authenticated or not user.has_role(Role.COMMISSIONER):
        return JsonResponse({"error": "Only commissioners can read demand figures."}, status=403)
    try:
        query = parse_query(request.GET, default_group_by=("category",))
        unrounded = may_see_unrounded(user) and request.GET.get("disclosure") != "published"
        if unrounded:
            rows, hidden, grid = analyst_figures(query=query), 0, None
            previous = analyst_figures(query=query.previous_period())
            last_year = analyst_figures(query=query.last_year())
        else:
            result = published_figures(query=query)
            rows, hidden, grid = result.rows, result.hidden_cells, result.grid
            previous = published_figures(query=query.previous_period()).rows
            last_year = published_figures(query=query.last_year()).rows
    except (BadParameters, DisclosureError) as error:
        return JsonResponse({"error": str(error)}, status=400)
    demand_with_changes(rows=rows, previous=previous, last_year=last_year, group_by=query.group_by)
    label_rows(rows, query.group_by)
    return JsonResponse(
        {
            "from": query.start.isoformat()[:7],
            "to": query.end.isoformat()[:7],
            "group_by": list(query.group_by),
            "filters": {name: list(values) for name, values in query.filters},
            "disclosure": "unrounded" if unrounded else "published",
            "grid": list(grid) if grid else None,
            "hidden_cells": hidden,
            "rows": rows,
        }
    )
