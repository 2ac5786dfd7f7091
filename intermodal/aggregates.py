"""SQL the ORM lacks: a difference in seconds, a duration's histogram bucket."""

from django.db.models import FloatField, Func, IntegerField


class Seconds(Func):
    """`end - start` in seconds (a float)."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
                              arg_joiner=" - ", **extra_context)


class DurationBucket(Func):
    """The histogram bucket of a duration in seconds: `BUCKETS_PER_OCTAVE` buckets per doubling, from 1 s (bucket
    0 holds everything shorter). Each bucket spans 4.4 % of its values: [2^(b/16), 2^((b+1)/16)) s. Monotone, so
    every value of a bucket is below every value of the next."""

    BUCKETS_PER_OCTAVE = 16
    output_field = IntegerField()
    arity = 1
    template = f"FLOOR(LN(GREATEST(%(expressions)s, 1.0)) * {BUCKETS_PER_OCTAVE} / LN(2.0))::integer"
