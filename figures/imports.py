"""The import side of the figures (issue 19), and match-back: the import on-schedule rate, the dwell at the
inland station, the time with the consignee (detention), the demurrage and detention charged, and the share of
export empties that were import returns. Rolled up by day like the others (figures/rollups.py); part of
figures.compute's answer, scoped the same way (direction included: figures/query.py).

The money is the free-time arithmetic of inbound.services.free_time_clock written in SQL (inbound.free_time_sql): the
day a clock starts is free and not counted, `free_days` follow, every day after them up to the day it ends is
charged, all in the station's own calendar. tests/figures/test_imports.py holds the two to the same answers.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils import timezone

from bookings.models import SIZE_TYPES, Container
from figures import rollups
from figures.query import TRAVELLING, FigureQuery, _by_month, _hours, _percent
from inbound.free_time_sql import ChargeableDays, LocalDate, carrier_detention_term
from inbound.models import DetentionTime, ImportContainerDay, MatchBackDay, StationDwell
from inbound.services import DEFAULT_DETENTION_FREE_DAYS, DEFAULT_DETENTION_PER_TEU_DAY
from intermodal.aggregates import Seconds
from stations.models import Direction

STATION_ZONE = "booking__departure__service__station__timezone"
PLACES = {"station": "booking__departure__service__station", "service": "booking__departure__service",
          "shipper": "booking__shipper"}


def _teu():
    """A container's TEU from its size-type, as SIZE_TYPES says."""
    return Case(*[When(size_type=code, then=Value(info.teu)) for code, info in SIZE_TYPES.items()],
                default=Value(1), output_field=IntegerField())


def _money(expression):
    return ExpressionWrapper(expression, output_field=DecimalField(max_digits=16, decimal_places=2))


# --- On schedule -----------------------------------------------------------------------------------------

# The promise to an import's consignee: available for pick-up at the inland station by the day (the station's
# calendar) of the departure's planned arrival there plus a handling time. Stations hold no handling time of their
# own; the one the network holds for a rail/terminal interchange is the terminal's handling buffer
# (Terminal.handling_buffer, TERMINAL_HANDLING_BUFFER by default) - the service's terminal's, as at the port end of
# an export - so the station is given that same time to take the containers off the train and release them.
def _promised_day():
    hours = Coalesce(F("booking__departure__service__terminal__handling_buffer_hours"),
                     Value(int(settings.TERMINAL_HANDLING_BUFFER.total_seconds() // 3600)))
    handling = ExpressionWrapper(hours * Value(timedelta(hours=1)), output_field=DurationField())
    promised = ExpressionWrapper(F("booking__departure__planned_arrival") + handling, output_field=DateTimeField())
    return LocalDate(promised, F(STATION_ZONE))


def _import_containers():
    """Import containers that are judged: available (on time or late), or not available with the promised day
    over (late whatever comes). The others are still to be judged."""
    today = LocalDate(Value(timezone.now(), output_field=DateTimeField()), F(STATION_ZONE))
    return (Container.objects.filter(booking__direction=Direction.IMPORT, booking__status__in=TRAVELLING)
            .alias(promised_day=_promised_day())
            .filter(Q(available_at__isnull=False) | Q(promised_day__lt=today)))


IMPORT_CONTAINERS = rollups.Rollup(
    model=ImportContainerDay,
    rows=_import_containers,
    dated_by="booking__departure__planned_arrival",
    **PLACES, direction=Direction.IMPORT,
    measures={
        "containers": lambda: Count("id"),
        "on_schedule": lambda: Count("id", filter=Q(available_at__isnull=False) & LessThanOrEqual(
            LocalDate(F("available_at"), F(STATION_ZONE)), F("promised_day"))),
    },
)


# --- Free time: dwell and demurrage at the station, detention with the consignee ----------------------------


def _free_time_rollup(*, model, rows, dated_by: str, started: str, ended: str, free_days, per_teu_day,
                      currency) -> rollups.Rollup:
    """A clock's histogram of durations (started -> ended), with the containers charged, the days charged and the
    charges, by the currency of its tariff."""

    def days():
        return ChargeableDays(F(started), F(ended), F(STATION_ZONE), free_days())

    return rollups.duration_rollup(
        model=model, rows=rows, dated_by=dated_by, **PLACES, direction=Direction.IMPORT,
        seconds=lambda: Seconds(ended, started), count="containers",
        columns={"currency": currency},
        extra={
            "charged": lambda: Count("pk", filter=GreaterThan(days(), 0)),
            "chargeable_days": lambda: Sum(days()),
            "charges": lambda: Sum(_money(per_teu_day() * _teu() * days())),
        },
    )


def _import_rows(**ended):
    return Container.objects.filter(booking__direction=Direction.IMPORT, **ended)


DWELL = _free_time_rollup(
    model=StationDwell,
    rows=lambda: _import_rows(station_discharge_at__isnull=False, delivered_at__isnull=False),
    dated_by="delivered_at", started="station_discharge_at", ended="delivered_at",
    free_days=lambda: F("booking__free_days"),
    per_teu_day=lambda: F("booking__departure__service__station__demurrage_per_teu_day"),
    currency=lambda: F("booking__currency"),
)


DETENTION = _free_time_rollup(
    model=DetentionTime,
    rows=lambda: _import_rows(delivered_at__isnull=False, returned_at__isnull=False),
    dated_by="returned_at", started="delivered_at", ended="returned_at",
    free_days=lambda: carrier_detention_term("free_days", DEFAULT_DETENTION_FREE_DAYS),
    per_teu_day=lambda: carrier_detention_term("per_teu_day", DEFAULT_DETENTION_PER_TEU_DAY),
    currency=lambda: carrier_detention_term("currency", "CNY"),
)


# --- Match-back ------------------------------------------------------------------------------------------


MATCH_BACK = rollups.Rollup(
    model=MatchBackDay,
    rows=lambda: Container.objects.filter(booking__direction=Direction.EXPORT, empty_out_at__isnull=False),
    dated_by="empty_out_at",
    **PLACES, direction=Direction.EXPORT,
    measures={
        "empties": lambda: Count("id"),
        "matched": lambda: Count("id", filter=Q(matched_empty__isnull=False)),
        "km_saved": lambda: Coalesce(Sum("matched_empty__port_distance_km"), 0),
    },
)

ROLLUPS = (IMPORT_CONTAINERS, DWELL, DETENTION, MATCH_BACK)


# --- The figures -----------------------------------------------------------------------------------------


def _days(value) -> float | None:
    return round(value.total_seconds() / 86400, 1) if value is not None else None


def _clock(rollup: rollups.Rollup, query: FigureQuery) -> list[dict]:
    """A free-time clock's sums by month, bucket and currency: read once (a query of the rolled days, one of the
    live ones) for both its durations and its charges."""
    return query.remembered(("clock", rollup.model), lambda: rollups.sums(rollup, query,
                                                                         ("month", "bucket", "currency")))


def _durations(rollup: rollups.Rollup, query: FigureQuery, unit) -> dict:
    """Count, median, 90th percentile and mean of a clock's durations, in all and by month, in `unit`."""
    summary, by_month = rollups.durations(rollup, query, "containers", rows=_clock(rollup, query))
    name = "hours" if unit is _hours else "days"
    monthly = [{"month": month, "containers": row["count"], f"median_{name}": unit(row[0.5]),
                f"p90_{name}": unit(row[0.9])} for month, row in by_month.items()]
    return {
        "containers": summary["count"],
        f"median_{name}": unit(summary[0.5]),
        f"p90_{name}": unit(summary[0.9]),
        f"mean_{name}": unit(summary["mean"]),
        "by_month": _by_month(query, monthly, containers=0, **{f"median_{name}": None, f"p90_{name}": None}),
    }


def dwell(query: FigureQuery) -> dict:
    """Import containers gated out to their consignee in the period: from their discharge at the station."""
    return _durations(DWELL, query, _hours)


def detention(query: FigureQuery) -> dict:
    """Import containers returned empty in the period: the days from the gate-out to the return."""
    return _durations(DETENTION, query, _days)


def _charges(rollup: rollups.Rollup, query: FigureQuery) -> dict:
    rows: dict[str, dict] = {}
    for row in _clock(rollup, query):
        total = rows.setdefault(row["currency"], {"currency": row["currency"], "containers": 0, "charged": 0,
                                                  "chargeable_days": 0, "charges": 0})
        for name in ("containers", "charged", "chargeable_days", "charges"):
            total[name] += row[name] or 0
    rows = list(rows.values())
    return {
        "containers": sum(row["containers"] for row in rows),
        "charged": sum(row["charged"] for row in rows),
        "chargeable_days": sum(row["chargeable_days"] for row in rows),
        "amounts": sorted(({"currency": row["currency"], "amount": round(float(row["charges"]), 2)}
                           for row in rows if row["containers"]), key=lambda row: row["currency"]),
    }


def free_time_charges(query: FigureQuery) -> dict | None:
    """Demurrage (the clocks ended by a gate-out in the period) and detention (ended by the empty's return):
    containers, those charged, the days charged and the amounts by currency. Nothing commercial for a local
    government."""
    if not query.sees_prices:
        return None
    return {"demurrage": _charges(DWELL, query), "detention": _charges(DETENTION, query)}


def match_back(query: FigureQuery) -> dict:
    """Of the empties handed out for exports in the period, the share that were import returns, and the road
    kilometres of empties from the port they saved."""
    monthly = [{"month": row["month"], "empties": row["empties"], "matched": row["matched"],
                "km_saved": row["km_saved"]} for row in rollups.sums(MATCH_BACK, query, ("month",))]
    months = _by_month(query, monthly, empties=0, matched=0, km_saved=0)
    for row in months:
        row["share"] = _percent(row["matched"], row["empties"])
    empties = sum(row["empties"] for row in months)
    matched = sum(row["matched"] for row in months)
    return {"empties": empties, "matched": matched, "share": _percent(matched, empties),
            "km_saved": sum(row["km_saved"] for row in months), "by_month": months}


def import_figures(query: FigureQuery) -> dict:
    return {"dwell": dwell(query), "detention": detention(query), "free_time_charges": free_time_charges(query),
            "match_back": match_back(query)}
