"""SQL the ORM lacks: a difference in seconds, a continuous percentile over a column of a UNION."""

from django.db.models import FloatField, Func


class Seconds(Func):
    """`end - start` in seconds (a float)."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
                              arg_joiner=" - ", **extra_context)


def percentile_sql(column: str, fraction: float) -> str:
    """The continuous percentile of a column as SQL text, PostgreSQL's `percentile_cont(f) WITHIN GROUP (ORDER
    BY x)`: for the figures' percentiles over a UNION, which the ORM cannot express."""
    if not 0 <= fraction <= 1:
        raise ValueError("A percentile's fraction lies between 0 and 1.")
    return f"PERCENTILE_CONT({float(fraction)!r}) WITHIN GROUP (ORDER BY {column})"
