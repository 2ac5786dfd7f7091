"""Writing many rows at once: their changed fields, or new rows.

Django's `bulk_update` builds a CASE of one WHEN per row and field, resolved as expressions in Python: for a run of
a thousand containers it cost more than the steps themselves (P1, docs/PERFORMANCE.md). `rows_update` sends the
values as one array per column instead, typed by the columns, in one UPDATE.
"""

from collections.abc import Iterable, Sequence

from django.db import connection, models
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


# Fields whose values, as the model holds them, are what the database is sent (get_db_prep_save gives them back
# unchanged): they are sent as they are. A time must be aware, as USE_TZ has them.
_SENT_AS_THEY_ARE = (models.CharField, models.TextField, models.IntegerField, models.BooleanField,
                     models.DateTimeField, models.ForeignKey)


def rows_insert(model: type[Model], rows: Sequence[Model], *, returning: str | None = None) -> None:
    """Insert `rows` (new instances of `model`, every field set as it is to be stored: no pre_save, no auto_now,
    no database default, as `Model(...)` left them) with one `INSERT ... SELECT FROM unnest(<one array per
    column>)`, in their order; the `returning` column (the id) is read back onto them. Django's bulk_create sends
    a model with a JSON field as a VALUES list, each value prepared by its field in Python: for a run's events it
    cost more than the steps that made them (P1, docs/PERFORMANCE.md)."""
    if not rows:
        return
    meta = model._meta
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field and not field.generated]
    values = []
    for field in fields:
        column = [getattr(row, field.attname) for row in rows]
        if not isinstance(field, _SENT_AS_THEY_ARE):
            column = [field.get_db_prep_save(value, connection) for value in column]
        values.append(column)
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    arrays = ", ".join(f"%s::{field.cast_db_type(connection).split('(')[0]}[]" for field in fields)
    returned = f" RETURNING {quote(meta.get_field(returning).column)}" if returning else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT * FROM unnest({arrays}){returned}",  # noqa: S608
            values,
        )
        if returning:
            attname = meta.get_field(returning).attname
            for row, (value,) in zip(rows, cursor.fetchall(), strict=True):
                setattr(row, attname, value)
    for row in rows:
        row._state.adding, row._state.db = False, connection.alias
