"""Aggregates the ORM lacks, computed in the database on PostgreSQL and on the SQLite of `make run` alike."""

import math

from django.db.models import Aggregate, FloatField, Func, Value


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


class Percentile(Aggregate):
    """The continuous percentile of an expression: `Percentile(F("x"), 0.9)`.

    PostgreSQL: `percentile_cont(0.9) WITHIN GROUP (ORDER BY x)` (numbers and intervals). SQLite has no such
    aggregate, so the connection gets one written in Python with the same interpolation; the rows still never
    leave the database query.
    """

    name = "Percentile"
    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile's fraction lies between 0 and 1.")
        self.fraction = float(fraction)
        super().__init__(expression, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        extra_context.setdefault("fraction", repr(self.fraction))
        return super().as_sql(compiler, connection, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        connection.ensure_connection()
        connection.connection.create_aggregate("intermodal_percentile_cont", 2, _PercentileCont)
        clone = self.copy()
        expression, *_rest, condition = self.get_source_expressions()
        clone.set_source_expressions([expression, Value(self.fraction, FloatField()), condition])
        return super(Percentile, clone).as_sql(
            compiler, connection, function="intermodal_percentile_cont", template="%(function)s(%(expressions)s)",
            **extra_context,
        )


class Seconds(Func):
    """`end - start` in seconds (a float), on PostgreSQL and SQLite alike."""

    output_field = FloatField()

    def __init__(self, end, start, **extra):
        super().__init__(end, start, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
                              arg_joiner=" - ", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django's own SQLite function for datetime differences, in microseconds.
        return super().as_sql(compiler, connection, template="(django_timestamp_diff(%(expressions)s) / 1000000.0)",
                              **extra_context)


def percentile_sql(connection, column: str, fraction: float) -> str:
    """`Percentile` as SQL text, for a query the ORM cannot express (an aggregate over a UNION)."""
    if not 0 <= fraction <= 1:
        raise ValueError("A percentile's fraction lies between 0 and 1.")
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        connection.connection.create_aggregate("intermodal_percentile_cont", 2, _PercentileCont)
        return f"intermodal_percentile_cont({column}, {float(fraction)!r})"
    return f"PERCENTILE_CONT({float(fraction)!r}) WITHIN GROUP (ORDER BY {column})"
