"""Aggregates the ORM lacks, computed in the database on PostgreSQL and on the SQLite of `make run` alike."""

import math

from django.db.models import Aggregate, FloatField, Value


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
