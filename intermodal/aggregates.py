"""SQL the ORM lacks (a percentile, a difference in seconds), on PostgreSQL and on the SQLite of `make run` alike."""

import math

from django.db.models import FloatField, Func


class _PercentileCont:
    """SQLite aggregate with PostgreSQL's percentile_cont semantics (linear interpolation between ranks)."""

    def __init__(self):
        self.values = []
        self.fraction = 0.5

    def step(self, value, fraction):
        if value is not None:
            self.values.append(value)
            self.fraction = fraction

    def finalize(self):
        if not self.values:
            return None
        values = sorted(self.values)
        position = self.fraction * (len(values) - 1)
        low, high = math.floor(position), math.ceil(position)
        return values[low] + (values[high] - values[low]) * (position - low)


class Seconds(Func):
    """`end - start` in seconds (a float), on PostgreSQL and SQLite alike."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
                              arg_joiner=" - ", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django's own SQLite function for datetime differences, in microseconds.
        return super().as_sql(compiler, connection, template="(django_timestamp_diff(%(expressions)s) / 1000000.0)",
                              **extra_context)


def percentile_sql(connection, column: str, fraction: float) -> str:
    """The continuous percentile of a column as SQL text: PostgreSQL's `percentile_cont(f) WITHIN GROUP (ORDER
    BY x)`; on SQLite, which has no such aggregate, one written in Python with the same interpolation (the rows
    still never leave the query). For the figures' percentiles over a UNION, which the ORM cannot express."""
    if not 0 <= fraction <= 1:
        raise ValueError("A percentile's fraction lies between 0 and 1.")
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_aggregate("intermodal_percentile_cont", 2, _PercentileCont)
        return f"intermodal_percentile_cont({column}, {float(fraction)!r})"
    return f"PERCENTILE_CONT({float(fraction)!r}) WITHIN GROUP (ORDER BY {column})"
