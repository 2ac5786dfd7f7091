"""Customs' part of the figures: clearance time and the share released without inspection, and the cargo mix
by HS chapter ("port + channel + industry"). Registered with bookings.figures; scoped the same way."""

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from bookings.figures import FigureQuery, _hours, _month, _percent
from customs.models import Declaration, DeclarationStatus, GoodsLine
from intermodal.aggregates import Percentile

# Short names of the chapters inland stations ship most; the others show as "Chapter NN".
HS_CHAPTERS = {
    "39": _("Plastics"), "40": _("Rubber"), "42": _("Leather goods, bags"), "44": _("Wood"),
    "48": _("Paper"), "61": _("Knitted apparel"), "62": _("Woven apparel"), "63": _("Home textiles"),
    "64": _("Footwear"), "69": _("Ceramics"), "70": _("Glass"), "73": _("Articles of iron or steel"),
    "76": _("Aluminium"), "82": _("Tools, cutlery"), "83": _("Metal hardware"), "84": _("Machinery"),
    "85": _("Electrical equipment"), "87": _("Vehicles and parts"), "90": _("Instruments"),
    "94": _("Furniture, lighting"), "95": _("Toys, games, sports"), "96": _("Miscellaneous articles"),
}


def _scope(query: FigureQuery, prefix: str = "") -> Q:
    return query.scope(station=f"{prefix}station", service=f"{prefix}booking__departure__service",
                       shipper=f"{prefix}declarant")


def _clearance():
    return ExpressionWrapper(F("released_at") - F("submitted_at"), output_field=DurationField())


def clearance(query: FigureQuery) -> dict:
    """Declarations released in the period: submitted -> released, and how many without an inspection."""
    released = Declaration.objects.filter(_scope(query), query.within("released_at"),
                                          status=DeclarationStatus.RELEASED)
    without = Q(inspection__isnull=True)
    summary = released.aggregate(
        released=Count("id"), without_inspection=Count("id", filter=without),
        median=Percentile(_clearance(), 0.5, output_field=DurationField()),
        p90=Percentile(_clearance(), 0.9, output_field=DurationField()),
    )
    monthly = {
        row["month"]: row
        for row in released.values(month=_month("released_at"))
        .annotate(released=Count("id"), without_inspection=Count("id", filter=without),
                  median=Percentile(_clearance(), 0.5, output_field=DurationField()))
        .order_by("month")
    }
    by_month = []
    for month in query.months:
        row = monthly.get(month, {"released": 0, "without_inspection": 0, "median": None})
        by_month.append({"month": month, "released": row["released"], "median_hours": _hours(row["median"]),
                         "share_without_inspection": _percent(row["without_inspection"], row["released"])})
    return {
        "released": summary["released"],
        "median_hours": _hours(summary["median"]),
        "p90_hours": _hours(summary["p90"]),
        "without_inspection": summary["without_inspection"],
        "share_without_inspection": _percent(summary["without_inspection"], summary["released"]),
        "by_month": by_month,
    }


def cargo_mix(query: FigureQuery) -> list[dict]:
    """Goods declared (submitted) in the period by HS chapter: gross weight and lines, heaviest first. Weights,
    not values: the mix is shown to local governments, who see nothing commercial."""
    lines = GoodsLine.objects.filter(
        _scope(query, "declaration__"), query.within("declaration__submitted_at"),
        declaration__status__in=[DeclarationStatus.SUBMITTED, DeclarationStatus.INSPECTION_REQUIRED,
                                 DeclarationStatus.INSPECTED, DeclarationStatus.RELEASED],
    )
    rows = list(
        lines.values(chapter=Substr("hs_code", 1, 2))
        .annotate(gross_weight_kg=Sum("gross_weight_kg"), lines=Count("id"))
        .order_by("-gross_weight_kg", "chapter")
    )
    total = sum(row["gross_weight_kg"] for row in rows)
    for row in rows:
        row["name"] = str(HS_CHAPTERS.get(row["chapter"], _("Chapter %(chapter)s") % {"chapter": row["chapter"]}))
        row["share"] = _percent(row["gross_weight_kg"], total)
        row["gross_weight_kg"] = float(row["gross_weight_kg"])
    return rows


def customs_figures(query: FigureQuery) -> dict:
    return {"clearance": clearance(query), "cargo_mix": cargo_mix(query)}
