"""Writing many rows' changed fields at once.

Django's `bulk_update` builds a CASE of one WHEN per row and field, resolved as expressions in Python: for a run of
a thousand containers it cost more than the steps themselves (P1, docs/PERFORMANCE.md). `rows_update` sends the
values as one array per column instead, typed by the columns, in one UPDATE.
"""

from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Model


def rows_update(model: type[Model], rows: Iterable[Model], fields: Sequence[str]) -> int:
    """Write `fields` of `rows` (saved instances of `model`, changed in memory) with one UPDATE, rows in the
    order of their ids (concurrent writers lock them in the same order). No save() signals, no auto_now: as
    bulk_update. The number of rows updated."""
    rows = sorted(rows, key=lambda row: row.pk)
    if not rows or not fields:
        return 0
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    key = meta.pk
    names = [key.column, *(column.column for column in columns)]
    arrays = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in (key, *columns))
    values = [[key.get_db_prep_value(row.pk, connection) for row in rows]] + [
        [column.get_db_prep_save(getattr(row, column.attname), connection) for row in rows] for column in columns]
    assignments = ", ".join(f"{quote(column.column)} = v.{quote(column.column)}" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 - the model's own names
            f"FROM unnest({arrays}) AS v({', '.join(quote(name) for name in names)}) "
            f"WHERE t.{quote(key.column)} = v.{quote(key.column)}",
            values,
        )
        return cursor.rowcount
