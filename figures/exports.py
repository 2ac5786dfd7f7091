"""The dashboard's figures as tables for CSV and Excel (intermodal/exports.py writes them)."""

from django.utils.translation import gettext as _

from intermodal.exports import Table


def figure_tables(figures: dict) -> list[Table]:
    """The dashboard's figures as tables, a row per month or station, with the numbers the charts draw."""
    tables = []
    os = figures["on_schedule"]
    tables.append(Table(_("On schedule"), [_("month"), _("containers"), _("on schedule"), _("rate %")],
                        [[r["month"], r["total"], r["on_schedule"], r["rate"]] for r in os["by_month"]]))
    wait = figures["empty_wait"]
    tables.append(Table(_("Empty wait"), [_("month"), _("requests"), _("median hours"), _("90th percentile hours")],
                        [[r["month"], r["requests"], r["median_hours"], r["p90_hours"]] for r in wait["by_month"]]))
    clearance = figures.get("clearance")
    if clearance is not None:
        tables.append(Table(
            _("Clearance"), [_("month"), _("released"), _("median hours"), _("without inspection %")],
            [[r["month"], r["released"], r["median_hours"], r["share_without_inspection"]]
             for r in clearance["by_month"]],
        ))
    tp = figures["throughput"]
    tables.append(Table(_("TEU by month"), [_("month"), _("TEU")], [[r["month"], r["teu"]] for r in tp["by_month"]]))
    tables.append(Table(_("TEU by station"), [_("station"), _("name"), _("TEU"), _("bookings")],
                        [[r["code"], r["name"], r["teu"], r["bookings"]] for r in tp["by_station"]]))
    load = figures.get("load_factor")
    if load is not None:
        tables.append(Table(
            _("Load factor"), [_("month"), _("departures"), _("booked TEU"), _("capacity TEU"), _("rate %")],
            [[r["month"], r["departures"], r["booked"], r["capacity"], r["rate"]] for r in load["by_month"]],
        ))
    cost = figures.get("cost")
    if cost is not None:
        tables.append(Table(
            _("Cost"), [_("station"), _("containers"), _("sea-rail per container"), _("road per container"),
                        _("saving per container"), _("saving"), _("currency")],
            [[r["code"], r["containers"], r["sea_rail_per_container"], r["road_per_container"],
              r["saving_per_container"], r["saving"], cost["currency"]] for r in cost["by_station"]],
        ))
    dwell = figures["dwell"]
    tables.append(Table(_("Import dwell"), [_("month"), _("containers"), _("median hours"), _("90th percentile hours")],
                        [[r["month"], r["containers"], r["median_hours"], r["p90_hours"]] for r in dwell["by_month"]]))
    detention = figures["detention"]
    tables.append(Table(_("Detention"), [_("month"), _("containers"), _("median days"), _("90th percentile days")],
                        [[r["month"], r["containers"], r["median_days"], r["p90_days"]]
                         for r in detention["by_month"]]))
    charges = figures.get("free_time_charges")
    if charges is not None:
        clocks = {"demurrage": _("demurrage"), "detention": _("detention")}
        tables.append(Table(
            _("Free-time charges"), [_("charge"), _("containers"), _("charged"), _("days charged"), _("amount"),
                                     _("currency")],
            [[clocks[name], clock["containers"], clock["charged"], clock["chargeable_days"], amount["amount"],
              amount["currency"]]
             for name, clock in charges.items() for amount in clock["amounts"] or [{"amount": 0, "currency": ""}]],
        ))
    match = figures["match_back"]
    tables.append(Table(_("Match-back"), [_("month"), _("empties handed out"), _("import returns"), _("%"),
                                          _("km saved")],
                        [[r["month"], r["empties"], r["matched"], r["share"], r["km_saved"]]
                         for r in match["by_month"]]))
    mix = figures.get("cargo_mix")
    if mix is not None:
        tables.append(Table(_("Cargo mix"), [_("HS chapter"), _("name"), _("gross weight kg"), _("lines"), _("%")],
                            [[r["chapter"], r["name"], r["gross_weight_kg"], r["lines"], r["share"]] for r in mix]))
    return tables
