"""Load the demo network: parties and their logins, terminals, 24 stations, services both ways, tariffs, vessel
calls, the carriers' detention terms; then (journey's `seed_demo_imports`) the import traffic the parties work on.

Safe to run again: every row is keyed on its business code, reference data is brought back to the demo's
values, and live data is left alone (a user's password once set, vessel calls already published,
departures already generated, the import traffic once written).
"""

from collections import Counter
from datetime import datetime, timedelta

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from audit.context import ActingCommand
from intermodal.models import Organisation, User
from stations import demo_data
from stations.models import CarrierDetention, Departure, Location, Service, Station, Tariff, Terminal, VesselCall
from stations.services import departures_generate

PORT_ZONE = demo_data.PORT_ZONE
DEPARTURE_DAYS = 28


class Command(ActingCommand):
    help = "Load the demo network and its logins (idempotent: running it again changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Do not print the table of demo logins.")

    def handle(self, *args, quiet=False, **options):
        with transaction.atomic():
            created = seed()
        self.stdout.write(self.style.SUCCESS("Demo network loaded."))
        for label, model in (
            ("organisations", Organisation),
            ("users", User),
            ("terminals", Terminal),
            ("locations", Location),
            ("stations", Station),
            ("services", Service),
            ("tariffs", Tariff),
            ("departures", Departure),
            ("vessel calls", VesselCall),
            ("detention", CarrierDetention),
        ):
            self.stdout.write(f"  {label:<14} {model.objects.count():>5}  ({created[label]} new)")
        if not quiet:
            self.stdout.write("")
            self.stdout.write(f"Demo logins (password {demo_data.DEMO_PASSWORD} unless changed):")
            self.stdout.write(f"  {'username':<12} {'organisation':<20} party kind")
            for username, organisation, kind in demo_data.DEMO_USERS:
                self.stdout.write(f"  {username:<12} {organisation:<20} {kind}")
        if apps.is_installed("customs"):
            call_command("seed_risk_rules", verbosity=0)
        # The import traffic is played through the journey's services, which this app may not import.
        if apps.is_installed("journey"):
            call_command("seed_demo_imports", stdout=self.stdout, verbosity=options.get("verbosity", 1))


def seed(now: datetime | None = None) -> Counter:
    """Create or update the whole demo network; returns how many rows of each kind were created."""
    created: Counter = Counter()
    organisations = _organisations(created)
    _users(organisations, created)
    terminals = _terminals(organisations, created)
    locations = _locations(created)
    stations = _stations(organisations, created)
    _services(stations, terminals, organisations, created)
    _vessel_calls(terminals, locations, now or timezone.now(), created)
    _carrier_detention(created)
    created["departures"] = departures_generate(days=DEPARTURE_DAYS)
    return created


def _organisations(created: Counter) -> dict[str, Organisation]:
    organisations = {}
    for row in demo_data.ORGANISATIONS:
        defaults = {
            "name": row["name"],
            "name_zh": row["name_zh"],
            "kind": row["kind"],
            "city": row.get("city", ""),
            "province": row.get("province", ""),
            "uscc": row.get("uscc", ""),
            "is_active": True,
        }
        org, new = Organisation.objects.update_or_create(code=row["code"], defaults=defaults)
        created["organisations"] += new
        organisations[org.code] = org
    return organisations


def _users(organisations: dict[str, Organisation], created: Counter) -> None:
    for row in demo_data.USERS:
        username = row["username"]
        defaults = {
            "organisation": organisations[row["organisation"]],
            "email": f"{username}@{demo_data.DEMO_EMAIL_DOMAIN}",
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "is_staff": row.get("is_staff", False),
            "is_superuser": row.get("is_superuser", False),
        }
        if User.objects.filter(username=username).exists():
            # The password and language are the user's own once the account exists.
            User.objects.filter(username=username).update(**defaults)
            continue
        User.objects.create(
            username=username,
            password=make_password(demo_data.DEMO_PASSWORD),
            language=row["language"],
            is_active=True,
            **defaults,
        )
        created["users"] += 1


def _terminals(organisations: dict[str, Organisation], created: Counter) -> dict[str, Terminal]:
    terminals = {}
    for row in demo_data.TERMINALS:
        defaults = {key: value for key, value in row.items() if key != "code"}
        defaults.update(operator=organisations[demo_data.PORT_OPERATOR], **demo_data.place(row["code"]))
        terminal, new = Terminal.objects.update_or_create(code=row["code"], defaults=defaults)
        created["terminals"] += new
        terminals[terminal.code] = terminal
    return terminals


def _locations(created: Counter) -> dict[str, Location]:
    locations = {}
    for unlocode, name, name_zh, sea_days in demo_data.LOCATIONS:
        location, new = Location.objects.update_or_create(
            unlocode=unlocode, defaults={"name": name, "name_zh": name_zh, "sea_transit_days": sea_days}
        )
        created["locations"] += new
        locations[unlocode] = location
    return locations


def _stations(organisations: dict[str, Organisation], created: Counter) -> dict[str, Station]:
    offices = [organisations[code] for code in demo_data.INSPECTION_OFFICES]
    stations = {}
    for row in demo_data.STATIONS:
        defaults = {key: value for key, value in row.items() if key not in ("code", "road_km")}
        defaults["operator"] = organisations[row["operator"]] if row["operator"] else None
        station, new = Station.objects.update_or_create(code=row["code"], defaults=defaults)
        # add(), not set(): offices an administrator added on top stay.
        station.inspection_offices.add(*offices)
        created["stations"] += new
        stations[station.code] = station
    return stations


def _services(stations, terminals, organisations, created: Counter) -> None:
    road_km = {row["code"]: row["road_km"] for row in demo_data.STATIONS}
    operator = organisations[demo_data.SERVICE_OPERATOR]
    for row in demo_data.SERVICES:
        defaults = {key: value for key, value in row.items() if key not in ("code", "station", "terminal")}
        defaults.update(station=stations[row["station"]], terminal=terminals[row["terminal"]], operator=operator,
                        is_active=True)
        service, new = Service.objects.update_or_create(code=row["code"], defaults=defaults)
        created["services"] += new
        tariffs = demo_data.tariff_rows(row["mode"], row["distance_km"], road_km[row["station"]])
        for size, prices in tariffs.items():
            total = prices["transport_price"] + prices["port_handling"] + prices["documentation"]
            if prices["road_haulage_price"] <= total:
                raise CommandError(f"{service.code} {size}': the road alternative is not dearer than sea-rail.")
            _, new = Tariff.objects.update_or_create(
                service=service, container_size=size, defaults={**prices, "currency": "CNY"}
            )
            created["tariffs"] += new


def _carrier_detention(created: Counter) -> None:
    for scac, (free_days, per_teu_day) in demo_data.CARRIER_DETENTION.items():
        _, new = CarrierDetention.objects.update_or_create(
            carrier_scac=scac, defaults={"free_days": free_days, "per_teu_day": per_teu_day, "currency": "CNY"})
        created["detention"] += new


def _vessel_calls(terminals, locations, now: datetime, created: Counter) -> None:
    """The calls of the current and the next ISO weeks, from the fixed strings; only those still to sail."""
    today = now.astimezone(PORT_ZONE).date()
    monday = today - timedelta(days=today.isoweekday() - 1)
    for offset in range(demo_data.VESSEL_WEEKS):
        iso_year, iso_week, _ = (monday + timedelta(weeks=offset)).isocalendar()
        for string in demo_data.VESSEL_STRINGS:
            call = demo_data.vessel_call_of_week(string, iso_year, iso_week, terminals)
            if call is None or call["etd"] <= now:
                continue
            vessel_call, new = VesselCall.objects.get_or_create(
                imo_number=call.pop("imo_number"),
                voyage=call.pop("voyage"),
                terminal=call.pop("terminal"),
                defaults=call,
            )
            if new:
                vessel_call.destinations.set([locations[code] for code in string["destinations"]])
                created["vessel calls"] += 1
