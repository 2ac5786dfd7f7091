"""Tables out as CSV or Excel (.xlsx), the same rows either way, for every app's exports.

Exports take the queryset the page shows (already scoped and filtered) and stream it; a text cell that a
spreadsheet would run as a formula (=, +, -, @) is written with a leading apostrophe, and a character no file
can hold (a control character stored before the text policy, guard/text.py) as U+FFFD: no stored value
makes an export fail.
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

from guard.text import export_text

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
    if isinstance(value, str):
        value = export_text(value)
        if value.startswith(FORMULA_START):
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
        sheet = workbook.create_sheet(title=export_text(table.name, multiline=False)[:31])
        sheet.append([_xlsx_cell(h) for h in table.headers])
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
