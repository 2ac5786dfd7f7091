"""The free-time arithmetic of inbound.services.free_time_clock in SQL, for the queries that count many
containers at once (the figures' charges, the home page's reminders): the day a clock starts is not counted,
`free_days` follow, every day after them is charged, all in the station's own calendar (a column's time zone).
tests/figures/test_imports.py and tests/worklists/test_import_queues.py hold them to free_time_clock's answers."""

from django.db.models import DateField, Func, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from stations.models import CarrierDetention

# A container's booking's vessel's carrier, whose detention terms apply (inbound.services.detention_terms_of).
CARRIER = "booking__vessel_call__carrier_scac"


class LocalDate(Func):
    """The calendar day of a moment in a time zone given by a column (a station's own), as a date."""

    arity = 2
    output_field = DateField()
    template = "((%(expressions)s)::date)"
    arg_joiner = " AT TIME ZONE "


def _days_past_free_time(compiler, start, end, zone, free_days) -> tuple[str, tuple]:
    """SQL of the local days from the day `start` to the day of `end`, less the free days: above nought the days
    charged, nought or below the free days still left, negated."""
    start, end, zone, free_days = (compiler.compile(expression) for expression in (start, end, zone, free_days))
    sql = f"(({end[0]} AT TIME ZONE {zone[0]})::date - ({start[0]} AT TIME ZONE {zone[0]})::date - {free_days[0]})"
    return sql, (*end[1], *zone[1], *start[1], *zone[1], *free_days[1])


class ChargeableDays(Func):
    """The days charged on a free-time clock that ran from `start` to `end`, never below nought."""

    arity = 4
    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = _days_past_free_time(compiler, *self.get_source_expressions())
        return f"GREATEST({sql}, 0)", params


class FreeDaysLeft(Func):
    """The days from `now` to the last free day of a clock that started at `started` (arguments: started, zone,
    free days, now): 1, tomorrow is the last free day; below nought, charges accrue."""

    arity = 4
    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        started, zone, free_days, now = self.get_source_expressions()
        sql, params = _days_past_free_time(compiler, started, now, zone, free_days)
        return f"(-{sql})", params


def carrier_detention_term(field: str, default):
    """One of the detention terms (free_days, per_teu_day, currency) of a container's carrier, `default` for a
    carrier without terms of its own."""
    terms = CarrierDetention.objects.filter(carrier_scac=OuterRef(CARRIER))
    return Coalesce(Subquery(terms.values(field)[:1]), Value(default))
