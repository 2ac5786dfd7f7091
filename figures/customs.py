"""Customs' part of the figures: clearance time and the share released without inspection, and the cargo mix
by HS chapter ("port + channel + industry"). Part of figures.compute's answer; scoped the same way."""

from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from customs.models import CargoDay, ClearanceTime, Declaration, DeclarationStatus, GoodsLine
from figures import rollups
from figures.query import FigureQuery, _hours, _percent
from intermodal.aggregates import Seconds

# Short names of the chapters inland stations ship most; the others show as "Chapter NN".
HS_CHAPTERS = {
    "39": _("Plastics"), "40": _("Rubber"), "42": _("Leather goods, bags"), "44": _("Wood"),
    "48": _("Paper"), "61": _("Knitted apparel"), "62": _("Woven apparel"), "63": _("Home textiles"),
    "64": _("Footwear"), "69": _("Ceramics"), "70": _("Glass"), "73": _("Articles of iron or steel"),
    "76": _("Aluminium"), "82": _("Tools, cutlery"), "83": _("Metal hardware"), "84": _("Machinery"),
    "85": _("Electrical equipment"), "87": _("Vehicles and parts"), "90": _("Instruments"),
    "94": _("Furniture, lighting"), "95": _("Toys, games, sports"), "96": _("Miscellaneous articles"),
}


def _clearance():
    return Seconds("released_at", "submitted_at")


CLEARANCES = (rollups.duration_rollup(
    model=ClearanceTime,
    rows=lambda: Declaration.objects.filter(status=DeclarationStatus.RELEASED),
    dated_by="released_at",
    station="station", service="booking__departure__service", shipper="declarant",
    seconds=_clearance, count="declarations",
    extra={"inspected": lambda: Count("pk", filter=Q(inspection__isnull=False))},
))

CARGO = (rollups.Rollup(
    model=CargoDay,
    rows=lambda: GoodsLine.objects.filter(declaration__status__in=[
        DeclarationStatus.SUBMITTED, DeclarationStatus.INSPECTION_REQUIRED, DeclarationStatus.INSPECTED,
        DeclarationStatus.RELEASED]),
    dated_by="declaration__submitted_at",
    station="declaration__station", service="declaration__booking__departure__service",
    shipper="declaration__declarant",
    columns={"chapter": lambda: Substr("hs_code", 1, 2)},
    measures={"gross_weight_kg": lambda: Sum("gross_weight_kg"), "lines": lambda: Count("id")},
))


def clearance(query: FigureQuery) -> dict:
    """Declarations released in the period: submitted -> released, and how many without an inspection."""
    summary, monthly = rollups.durations(CLEARANCES, query, "declarations", flag="inspected")
    by_month = []
    for month in query.months:
        row = monthly.get(month, {"count": 0, "flagged": 0, 0.5: None})
        by_month.append({"month": month, "released": row["count"], "median_hours": _hours(row[0.5]),
                         "share_without_inspection": _percent(row["count"] - row["flagged"], row["count"])})
    without = summary["count"] - summary["flagged"]
    return {
        "released": summary["count"],
        "median_hours": _hours(summary[0.5]),
        "p90_hours": _hours(summary[0.9]),
        "without_inspection": without,
        "share_without_inspection": _percent(without, summary["count"]),
        "by_month": by_month,
    }


def cargo_mix(query: FigureQuery) -> list[dict]:
    """Goods declared (submitted) in the period by HS chapter: gross weight and lines, heaviest first. Weights,
    not values: the mix is shown to local governments, who see nothing commercial."""
    rows = sorted(rollups.sums(CARGO, query, ("chapter",)), key=lambda row: (-row["gross_weight_kg"], row["chapter"]))
    total = sum(row["gross_weight_kg"] for row in rows)
    for row in rows:
        row["name"] = str(HS_CHAPTERS.get(row["chapter"], _("Chapter %(chapter)s") % {"chapter": row["chapter"]}))
        row["share"] = _percent(row["gross_weight_kg"], total)
        row["gross_weight_kg"] = float(row["gross_weight_kg"])
    return rows


def customs_figures(query: FigureQuery) -> dict:
    return {"clearance": clearance(query), "cargo_mix": cargo_mix(query)}
