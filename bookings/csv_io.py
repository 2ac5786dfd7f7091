"""Tables out as CSV or Excel (.xlsx), the same rows either way; CSV in for bookings (see bookings.imports).

Exports take the queryset the page shows (already scoped and filtered) and stream it; a text cell that a
spreadsheet would run as a formula (=, +, -, @) is written with a leading apostrophe.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

FORMATS = ("csv", "xlsx")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Table:
    name: str  # the sheet's name, and the file's in a CSV of one table
    headers: list[str]
    rows: Iterable[list]


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _xlsx_cell(value):
    value = _cell(value)
    return float(value) if isinstance(value, Decimal) else value


class _Echo:
    def write(self, value):
        return value


def _csv_lines(tables: list[Table]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # a BOM, so spreadsheet programs read the UTF-8 (Chinese names) as such
    for index, table in enumerate(tables):
        if len(tables) > 1:
            if index:
                yield "\r\n"
            yield writer.writerow([table.name])
        yield writer.writerow(table.headers)
        for row in table.rows:
            yield writer.writerow([_cell(v) for v in row])


def xlsx_bytes(tables: list[Table]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for table in tables:
        sheet = workbook.create_sheet(title=table.name[:31])
        sheet.append(table.headers)
        for row in table.rows:
            sheet.append([_xlsx_cell(v) for v in row])
    if not tables:
        workbook.create_sheet(title=_("Empty"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_response(tables: list[Table], *, filename: str, file_format: str):
    """A download of the tables: CSV streamed row by row, or an .xlsx workbook with a sheet per table."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if file_format == "xlsx":
        response = HttpResponse(xlsx_bytes(tables), content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.xlsx"'
        return response
    response = StreamingHttpResponse(_csv_lines(tables), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response


# --- Figures as tables -----------------------------------------------------------------------------------


def figure_tables(figures: dict) -> list[Table]:
    """The dashboard's figures as tables, a row per month or station, with the numbers the charts draw."""
    tables = []
    os = figures["on_schedule"]
    tables.append(Table(_("On schedule"), [_("month"), _("containers"), _("on schedule"), _("rate %")],
                        [[r["month"], r["total"], r["on_schedule"], r["rate"]] for r in os["by_month"]]))
    wait = figures["empty_wait"]
    tables.append(Table(_("Empty wait"), [_("month"), _("requests"), _("median hours"), _("90th percentile hours")],
                        [[r["month"], r["requests"], r["median_hours"], r["p90_hours"]] for r in wait["by_month"]]))
    clearance = figures.get("clearance")
    if clearance is not None:
        tables.append(Table(
            _("Clearance"), [_("month"), _("released"), _("median hours"), _("without inspection %")],
            [[r["month"], r["released"], r["median_hours"], r["share_without_inspection"]]
             for r in clearance["by_month"]],
        ))
    tp = figures["throughput"]
    tables.append(Table(_("TEU by month"), [_("month"), _("TEU")], [[r["month"], r["teu"]] for r in tp["by_month"]]))
    tables.append(Table(_("TEU by station"), [_("station"), _("name"), _("TEU"), _("bookings")],
                        [[r["code"], r["name"], r["teu"], r["bookings"]] for r in tp["by_station"]]))
    load = figures.get("load_factor")
    if load is not None:
        tables.append(Table(
            _("Load factor"), [_("month"), _("departures"), _("booked TEU"), _("capacity TEU"), _("rate %")],
            [[r["month"], r["departures"], r["booked"], r["capacity"], r["rate"]] for r in load["by_month"]],
        ))
    cost = figures.get("cost")
    if cost is not None:
        tables.append(Table(
            _("Cost"), [_("station"), _("containers"), _("sea-rail per container"), _("road per container"),
                        _("saving per container"), _("saving"), _("currency")],
            [[r["code"], r["containers"], r["sea_rail_per_container"], r["road_per_container"],
              r["saving_per_container"], r["saving"], cost["currency"]] for r in cost["by_station"]],
        ))
    mix = figures.get("cargo_mix")
    if mix is not None:
        tables.append(Table(_("Cargo mix"), [_("HS chapter"), _("name"), _("gross weight kg"), _("lines"), _("%")],
                            [[r["chapter"], r["name"], r["gross_weight_kg"], r["lines"], r["share"]] for r in mix]))
    return tables
