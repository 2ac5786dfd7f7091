"""A year of sea-rail traffic in PostgreSQL, at the scale of Ningbo's sea-rail business, written by COPY.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/intermodal_bench .venv/bin/python bench/generate.py --scale 0.1

Ningbo-Zhoushan's sea-rail business carries about 1.5 million TEU a year. At `--scale 1` this writes a year of
it, both ways, its last vessels sailed by yesterday: some 1,000,000 container journeys (1-3 containers a booking,
1.75 on average, and 1.5 TEU a container) in about 570,000 bookings of 2,000 shippers, on the daily trains of 24
inland stations to four Ningbo terminals and back (8,760 departures each way, each booked to its capacity at most),
with 1,460 vessel calls, and the events their journeys record, about 10 a container (about 10 million at scale 1).

`--import-share` (BENCH_IMPORT_SHARE; a third by default) of the bookings, decided one by one in the plan, are
imports: off a vessel call that arrived the day before, by the station's import train (terminal -> station), out to
the consignee and, if back by now, returned empty at the station. The rest are exports:

- export booking: created and confirmed (SHIPMENT DRFT, CONF), empties asked for and ready (REQS, AVPU), its
  declaration drafted, submitted and released (SHIPMENT DRFT, SUBM, RELS, document type CUS);
- export container: empty out, gate-in at the station, loaded on the train (GTOT, GTIN, LOAD), discharged at the
  port, gate-in at the terminal, loaded on the vessel (DISC, GTIN, LOAD);
- import booking: created and confirmed, its declaration drafted, submitted and released (one in five only after
  its boxes reached the station); one in four (LATE_BOOKED) booked by its consignee only once its boxes were off
  the vessel, before the train took them;
- import container: announced on its vessel call (an ArrivingContainer row), discharged from the vessel and loaded
  on the train at the terminal (DISC vessel, LOAD rail; a late-booked box's DISC names no booking, as the port's
  report of a box nobody had booked yet does), discharged at the station (DISC rail), available (AVPU
  laden), gated out to the consignee (GTOT laden) and returned empty (GTIN empty) as far as it got by now - its
  status, booking status and timestamps (station_discharge_at, available_at, delivered_at, returned_at) say the
  same; a returned empty is a ReturnedEmpty row of its station, and MATCH_BACK of the export boxes that find one
  of their size there (returned before their empties went out) are that box (`used_by`, `used_at` = the export's
  `empty_out_at` and its GTOT empty);
- per train, each way: its estimated and actual departure and its arrival; per vessel call, its arrival and
  departure.

Every row is what the services would have written (the same columns, codes, places, references and reporting
organisations), bookings and containers included, so the tracking, list and dashboard queries meet the data they
will meet in production. Outbox rows and declarations are not written: the relay marks outbox rows processed and
they are not read again.

The year goes into its own schema of the bench database, `bench_year_<scale>` (`bench_year_0_1` for 0.1),
migrated like `public`, so other benchmarks' rows never mix with it and a fill is reused: a rerun with the
same scale finds the finished fill and does nothing (`--fresh` drops the schema and fills it again). Tables
are written by COPY (text format, built by a producer thread while PostgreSQL takes the previous chunk), with
the ids of bookings reserved from their sequence so references keep the product's `BK-YYYY-<id>` form (and those
of containers, so returned empties name theirs). The fill's marker records the import share: a fill of another
share is made again.
"""

import argparse
import bisect
import io
import itertools
import json
import math
import os
import queue
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

try:
    from bench import common
except ImportError:  # run as a script: bench/ is on sys.path, the project root is not
    import common

CONTAINERS_AT_SCALE_1 = 1_000_000
SHIPPERS_AT_SCALE_1 = 2_000
DAYS = 365
CHUNK = 50_000  # rows per COPY statement
MARKER = "bench-year-generator"  # the organisation whose name records a finished fill
VERSION = 4  # of the generated rows: a fill of another version (or import share) is made again
IMPORT_SHARE = 1 / 3  # of the bookings (and so about of the containers) that are imports, by default
NETWORK_OPERATOR = "year-stations"  # the code of the fill's first row: an unfinished fill holds it
# Of the import bookings, those whose consignee booked them only once the port had discharged the boxes (one in
# LATE_BOOKED): the discharge names the box and the vessel, not the booking (tracking finds it by the box).
LATE_BOOKED = 4
MATCH_BACK = 0.6  # of the export boxes that find a returned import empty of their size at their station, take it
NULL = "\\N"
# The tables a fill writes: analysed before its tracking facts are made, vacuumed and analysed at its end.
FILLED = ("bookings_booking", "bookings_bookingline", "bookings_container", "intermodal_event", "stations_departure",
          "stations_vesselcall", "inbound_arrivingcontainer", "inbound_returnedempty")
NOT_POSTGRES = "The generator writes with PostgreSQL's COPY into a schema of its own."

# (code, name, name_zh, city, city_zh, province, province_zh, UN/LOCODE, transit hours, weight of traffic)
STATIONS = (
    ("YIWU-W", "Yiwu West", "义乌西", "Yiwu", "义乌", "Zhejiang", "浙江", "CNYIU", 8, 14),
    ("YIWU-S", "Yiwu South", "义乌南", "Yiwu", "义乌", "Zhejiang", "浙江", "CNYIU", 8, 8),
    ("JINHUA-E", "Jinhua East", "金华东", "Jinhua", "金华", "Zhejiang", "浙江", "CNJHA", 9, 8),
    ("JINHUA-S", "Jinhua South", "金华南", "Jinhua", "金华", "Zhejiang", "浙江", "CNJHA", 9, 4),
    ("QUZHOU", "Quzhou", "衢州", "Quzhou", "衢州", "Zhejiang", "浙江", "CNQZS", 11, 4),
    ("LISHUI", "Lishui", "丽水", "Lishui", "丽水", "Zhejiang", "浙江", "CNLSU", 10, 3),
    ("SHAOXING", "Shaoxing", "绍兴", "Shaoxing", "绍兴", "Zhejiang", "浙江", "CNSXG", 5, 5),
    ("DEQING", "Deqing Linhang", "德清临杭", "Huzhou", "湖州", "Zhejiang", "浙江", "CNDEI", 7, 4),
    ("ANJI", "Anji", "安吉", "Huzhou", "湖州", "Zhejiang", "浙江", "CNHZH", 8, 2),
    ("JIAXING", "Jiaxing", "嘉兴", "Jiaxing", "嘉兴", "Zhejiang", "浙江", "CNJIA", 6, 3),
    ("HANGZHOU", "Hangzhou", "杭州", "Hangzhou", "杭州", "Zhejiang", "浙江", "CNHGH", 6, 4),
    ("HEFEI", "Hefei", "合肥", "Hefei", "合肥", "Anhui", "安徽", "CNHFI", 18, 4),
    ("XUANCHENG", "Xuancheng Land Port", "宣城陆港", "Xuancheng", "宣城", "Anhui", "安徽", "CNUAN", 14, 4),
    ("WUHU", "Wuhu", "芜湖", "Wuhu", "芜湖", "Anhui", "安徽", "CNWHI", 16, 2),
    ("NANCHANG", "Nanchang", "南昌", "Nanchang", "南昌", "Jiangxi", "江西", "CNNCH", 22, 4),
    ("SHANGRAO", "Shangrao", "上饶", "Shangrao", "上饶", "Jiangxi", "江西", "CNSRS", 14, 4),
    ("YINGTAN", "Yingtan", "鹰潭", "Yingtan", "鹰潭", "Jiangxi", "江西", "CNYTN", 17, 2),
    ("JINGDEZHEN", "Jingdezhen", "景德镇", "Jingdezhen", "景德镇", "Jiangxi", "江西", "CNJDZ", 19, 1),
    ("XIAN-P", "Xi'an International Port", "西安国际港", "Xi'an", "西安", "Shaanxi", "陕西", "CNXIA", 60, 3),
    ("XIAN-N", "Xi'an North", "西安北", "Xi'an", "西安", "Shaanxi", "陕西", "CNXIA", 60, 1),
    ("CHONGQING", "Chongqing", "重庆", "Chongqing", "重庆", "Chongqing", "重庆", "CNCQI", 72, 2),
    ("CHANGSHA", "Changsha", "长沙", "Changsha", "长沙", "Hunan", "湖南", "CNCSX", 30, 2),
    ("LANZHOU", "Lanzhou", "兰州", "Lanzhou", "兰州", "Gansu", "甘肃", "CNLHW", 84, 1),
    ("URUMQI", "Urumqi", "乌鲁木齐", "Urumqi", "乌鲁木齐", "Xinjiang", "新疆", "CNURC", 120, 1),
)
TERMINALS = (
    ("BEILUN", "Beilun", "北仑", "CNBLG"),
    ("CHUANSHAN", "Chuanshan", "穿山", "CNCHS"),
    ("MEISHAN", "Meishan", "梅山", "CNMSG"),
    ("DAXIE", "Daxie", "大榭", "CNDAX"),
)
DESTINATIONS = ("NLRTM", "DEHAM", "USLAX", "SGSIN", "AEJEA", "BRSSZ")
SIZE_TYPES = (("22G1", "20", 1), ("42G1", "40", 2), ("45G1", "40", 2), ("22G1", "20", 1))  # 1.5 TEU a box
OWNERS = (
    "CSQU", "TCNU", "MSKU", "OOLU", "CMAU", "EGHU", "TGHU", "FCIU", "SEGU", "TRHU",
    "BMOU", "GESU", "HLXU", "CAIU", "DFSU", "TEMU", "BSIU", "FSCU", "ZCSU", "YMLU",
)  # fmt: skip
# Import boxes have numbers of their own (owners no export box has), so ArrivingContainer's one row per vessel call and
# number and Container's one active booking per number hold: box g of the plan is IMPORT_OWNERS[g % 10], g // 10.
IMPORT_OWNERS = ("MSCU", "ONEU", "EMCU", "CMDU", "HLBU", "COSU", "APLU", "WHLU", "SITU", "KKFU")
IMPORT_COMMODITIES = ("Machinery parts", "Wood pulp", "Polyethylene granules", "Milk powder", "Wine in bottles")
PRICE = {"20": (Decimal("1350"), Decimal("2700")), "40": (Decimal("2200"), Decimal("4400"))}  # rail, road
PORT_HANDLING, DOCUMENTATION = Decimal("380"), Decimal("150")
BUFFER = timedelta(hours=6)  # the terminals' handling buffer


def schema_name(scale: float, days: int = DAYS) -> str:
    label = f"{scale:g}".replace(".", "_").replace("-", "_")
    return f"bench_year_{label}" if days == DAYS else f"bench_{days}d_{label}"


def days_for_events(scale: float, events: int) -> int:
    """The days of traffic at `scale` that make about `events` events (for a small table of the same traffic)."""
    a_day = 10 * CONTAINERS_AT_SCALE_1 * scale / DAYS + len(STATIONS) * 3 * 2 + len(TERMINALS) * 2  # trains each way
    return max(1, round(events / a_day))


def _text(value) -> str:
    """A value as COPY text; the generator's strings hold no tab, newline or backslash."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _line(values) -> str:
    return "\t".join(map(_text, values)) + "\n"


def copy_lines(cursor, table: str, columns, lines) -> int:
    """COPY the lines into `table`, CHUNK rows per statement, a producer thread building the next chunk."""
    chunks: queue.Queue = queue.Queue(maxsize=2)

    def produce() -> None:
        buffer: list[str] = []
        for line in lines:
            buffer.append(line)
            if len(buffer) == CHUNK:
                chunks.put(io.StringIO("".join(buffer)))
                buffer = []
        if buffer:
            chunks.put(io.StringIO("".join(buffer)))
        chunks.put(None)

    producer = threading.Thread(target=produce, name=f"copy-{table}", daemon=True)
    producer.start()
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    copied = 0
    while (chunk := chunks.get()) is not None:
        cursor.copy_expert(statement, chunk, size=1 << 20)
        copied += cursor.rowcount
    producer.join()
    return copied


def _reserve_ids(cursor, table: str, count: int) -> int:
    """Take `count` ids from the table's sequence; returns the first."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    (sequence,) = cursor.fetchone()
    cursor.execute("SELECT nextval(%s)", [sequence])
    (first,) = cursor.fetchone()
    cursor.execute("SELECT setval(%s, %s)", [sequence, first + count])
    return first


# --- The network and the parties (ORM: a few thousand rows) ----------------------------------------------


@dataclass
class Network:
    stations: list  # Station
    services: list  # Service, one per station, in STATIONS order
    import_services: list  # Service (terminal -> station), one per station, in STATIONS order
    terminals: list
    departures: dict  # (station index, day index) -> Departure
    import_departures: dict  # (station index, day index) -> Departure of the import service
    calls: dict  # (terminal index, day index) -> VesselCall
    shippers: list  # Organisation ids
    operator: object
    port: object
    railway: object
    customs: object
    first_day: date


def _imo(n: int) -> str:
    from stdnum import imo

    body = f"{9300000 + n * 7 % 699999:07d}"[:6]
    return body + imo.calc_check_digit(body)


def network_create(scale: float, first_day: date, days: int) -> Network:
    from intermodal.models import Organisation, PartyKind
    from stations.models import Direction, Location, Service, Station, Tariff, Terminal, VesselCall

    operator = Organisation.objects.create(
        code=NETWORK_OPERATOR, name="Inland stations", kind=PartyKind.STATION_OPERATOR
    )
    port = Organisation.objects.create(code="year-port", name="Ningbo-Zhoushan Port", kind=PartyKind.PORT)
    railway = Organisation.objects.create(code="year-railway", name="China Railway Shanghai", kind=PartyKind.RAILWAY)
    customs = Organisation.objects.create(code="year-customs", name="Ningbo Customs", kind=PartyKind.CUSTOMS)
    shippers = Organisation.objects.bulk_create(
        [
            Organisation(code=f"year-shipper-{n:05d}", name=f"Exporter {n}", kind=PartyKind.ENTERPRISE)
            for n in range(max(10, round(SHIPPERS_AT_SCALE_1 * scale)))
        ]
    )
    for code in DESTINATIONS:
        Location.objects.get_or_create(unlocode=code, defaults={"name": code})
    stations = Station.objects.bulk_create(
        [
            Station(code=c, name=n, name_zh=nz, city=ci, city_zh=ciz, province=p, province_zh=pz, unlocode=u,
                    operator=operator)
            for c, n, nz, ci, ciz, p, pz, u, _hours, _weight in STATIONS
        ]
    )  # fmt: skip
    for station in stations:
        station.inspection_offices.add(customs)
    terminals = Terminal.objects.bulk_create(
        [
            Terminal(code=c, name=n, name_zh=nz, unlocode=u, port_unlocode="CNNGB", operator=port,
                     handling_buffer_hours=6)
            for c, n, nz, u in TERMINALS
        ]
    )  # fmt: skip
    # Capacity: the busiest station's average day, with room for its busiest days.
    weights = [row[-1] for row in STATIONS]
    teu_a_day = CONTAINERS_AT_SCALE_1 * scale * 1.5 / DAYS  # the same traffic a day whatever the days
    capacity = max(4, math.ceil(teu_a_day * max(weights) / sum(weights) * 1.6) + 4)
    services = Service.objects.bulk_create(
        [
            Service(code=f"{row[0]}-{terminals[n % len(terminals)].code[:3]}-R", short_code=f"B{n:04d}",
                    station=station, terminal=terminals[n % len(terminals)], operator=railway,
                    weekdays=[1, 2, 3, 4, 5, 6, 7], departure_time=datetime.strptime("09:30", "%H:%M").time(),
                    transit_hours=row[8],
                    teu_capacity=min(capacity, 32000), distance_km=row[8] * 40)
            for n, (station, row) in enumerate(zip(stations, STATIONS, strict=True))
        ]
    )  # fmt: skip
    # The import service of each station: the same line the other way, leaving the terminal at 09:30.
    import_services = Service.objects.bulk_create(
        [
            Service(code=f"{row[0]}-{terminals[n % len(terminals)].code[:3]}-I", short_code=f"I{n:04d}",
                    station=station, terminal=terminals[n % len(terminals)], operator=railway,
                    direction=Direction.IMPORT, weekdays=[1, 2, 3, 4, 5, 6, 7],
                    departure_time=datetime.strptime("09:30", "%H:%M").time(), transit_hours=row[8],
                    teu_capacity=min(capacity, 32000), distance_km=row[8] * 40)
            for n, (station, row) in enumerate(zip(stations, STATIONS, strict=True))
        ]
    )  # fmt: skip
    Tariff.objects.bulk_create(
        [
            Tariff(service=service, container_size=size, transport_price=PRICE["40" if size != "20" else "20"][0],
                   port_handling=PORT_HANDLING, documentation=DOCUMENTATION,
                   road_haulage_price=PRICE["40" if size != "20" else "20"][1])
            for service in (*services, *import_services)
            for size in ("20", "40", "45")
        ]
    )  # fmt: skip
    # One vessel call a day at each terminal, sailing at 18:00 two days after the day's trains leave (more for
    # the far stations: a train reaches the call of the day it arrives plus two). Each arrived 30 hours before it
    # sailed: the import trains of the next morning take its containers inland.
    calls = {}
    built = []
    shanghai = common_zone()
    for t, terminal in enumerate(terminals):
        for day in range(days + 8):
            d = first_day + timedelta(days=day)
            etd = datetime(d.year, d.month, d.day, 18, tzinfo=shanghai)
            call = VesselCall(
                reference=f"{_imo(t * 1000 + day % 40)}-Y{t}{day:03d}", vessel_name=f"Ningbo Express {t}{day % 40}",
                imo_number=_imo(t * 1000 + day % 40), voyage=f"Y{t}{day:03d}", carrier="COSCO Shipping",
                carrier_scac="COSU", terminal=terminal, eta=etd - timedelta(hours=30), etd=etd,
                cy_cutoff=etd - timedelta(hours=24), vgm_cutoff=etd - timedelta(hours=24),
                si_cutoff=etd - timedelta(hours=48), customs_cutoff=etd - timedelta(hours=24),
                dg_cutoff=etd - timedelta(hours=72), actual_arrival=etd - timedelta(hours=30), actual_departure=etd,
            )  # fmt: skip
            built.append(call)
            calls[t, day] = call
    VesselCall.objects.bulk_create(built)
    through = VesselCall.destinations.through
    through.objects.bulk_create(
        [through(vesselcall_id=call.pk, location_id=DESTINATIONS[call.pk % len(DESTINATIONS)]) for call in built]
    )
    return Network(stations=stations, services=services, import_services=import_services, terminals=terminals,
                   departures={}, import_departures={}, calls=calls,
                   shippers=[s.pk for s in shippers], operator=operator, port=port, railway=railway, customs=customs,
                   first_day=first_day)  # fmt: skip


def common_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


# --- The plan: which booking goes where ------------------------------------------------------------------


@dataclass
class Plan:
    station: list[int] = field(default_factory=list)
    day: list[int] = field(default_factory=list)
    size: list[int] = field(default_factory=list)  # index into SIZE_TYPES
    quantity: list[int] = field(default_factory=list)
    shipper: list[int] = field(default_factory=list)
    imports: list[bool] = field(default_factory=list)  # an import (terminal -> station), else an export

    def __len__(self) -> int:
        return len(self.station)


def plan_make(rng: random.Random, containers: int, shippers: int, days: int, import_share: float = IMPORT_SHARE
              ) -> Plan:
    """Bookings of 1-3 boxes until `containers`; each an import with the chance `import_share`."""
    plan = Plan()
    weights = [row[-1] for row in STATIONS]
    made = 0
    while made < containers:
        quantity = min(rng.choice((1, 1, 2, 3)), containers - made)
        plan.station.append(rng.choices(range(len(STATIONS)), weights)[0])
        plan.day.append(int(rng.random() * days))
        plan.size.append(int(rng.random() * len(SIZE_TYPES)))
        plan.quantity.append(quantity)
        plan.shipper.append(int(rng.random() ** 2 * shippers))  # a few big exporters, many small ones
        plan.imports.append(rng.random() < import_share)
        made += quantity
    return plan


def departures_create(network: Network, plan: Plan, days: int) -> dict:
    """Every day's train of every station, each way, booked with the plan's TEU; returns (station, day) -> Departure
    of the exports (the imports' are in network.import_departures)."""
    from stations.models import Departure

    booked: dict[tuple[bool, int, int], int] = {}
    for n in range(len(plan)):
        key = plan.imports[n], plan.station[n], plan.day[n]
        booked[key] = booked.get(key, 0) + SIZE_TYPES[plan.size[n]][2] * plan.quantity[n]
    built = []
    for inbound, services, made in ((False, network.services, network.departures),
                                    (True, network.import_services, network.import_departures)):
        built += _departures_of(services, made, {(s, d): teu for (i, s, d), teu in booked.items() if i == inbound},
                                network.stations, network.first_day, days)
    Departure.objects.bulk_create(built, batch_size=2000)
    return network.departures


def _departures_of(services, made: dict, booked: dict, stations, first_day: date, days: int) -> list:
    from stations.models import DepartureStatus
    from stations.services import departure_build

    built = []
    for s, service in enumerate(services):
        service.station = stations[s]
        capacity = max(service.teu_capacity, max((booked.get((s, d), 0) for d in range(days)), default=0))
        for day in range(days):
            departure = departure_build(service=service, service_date=first_day + timedelta(days=day))
            departure.capacity_teu = capacity
            departure.booked_teu = booked.get((s, day), 0)
            delay = timedelta(minutes=(s * 37 + day * 11) % 90)
            departure.estimated_departure = departure.planned_departure + delay
            departure.estimated_arrival = departure.planned_arrival + delay
            departure.actual_departure = departure.planned_departure + delay
            departure.actual_arrival = departure.planned_arrival + delay
            departure.status = DepartureStatus.ARRIVED
            built.append(departure)
            made[s, day] = departure
    return built


def call_for(network: Network, station: int, day: int) -> tuple[int, int]:
    """The (terminal, day) of the vessel call a train of `station` leaving on `day` connects to."""
    terminal = station % len(TERMINALS)
    hours = STATIONS[station][8]
    return terminal, day + math.ceil((hours + 10) / 24) + 1


# --- The rows, by COPY -----------------------------------------------------------------------------------

BOOKING_COLUMNS = (
    "id", "reference", "shipper_id", "created_by_id", "departure_id", "vessel_call_id", "original_vessel_call_id",
    "destination_id", "status", "teu", "commodity", "cargo_weight_kg", "un_number", "imdg_class",
    "reefer_setpoint_c", "reefer_ventilation_cbm_h", "free_days", "free_time_start", "currency", "quote_transport",
    "quote_port_handling", "quote_documentation", "quote_total", "quote_road_haulage", "quote_saving", "quoted_at",
    "roll_count", "created_at", "updated_at", "confirmed_at", "cancelled_at", "direction",
)  # fmt: skip
LINE_COLUMNS = ("booking_id", "size_type", "quantity", "teu", "unit_price", "unit_road_price")
CONTAINER_COLUMNS = (
    "id", "booking_id", "number", "size_type", "status", "is_active", "seal_number", "vgm_kg", "vgm_method",
    "vgm_signatory", "assigned_at", "terminal_gate_in_at", "last_event_at", "station_discharge_at", "available_at",
    "delivered_at", "returned_at", "empty_out_at",
)  # fmt: skip
ARRIVAL_COLUMNS = (
    "vessel_call_id", "number", "size_type", "seal_number", "gross_weight_kg", "bl_number", "port_of_loading_id",
    "consignee_id", "announced_by_id", "announced_at", "discharged_at", "freight_hold", "terminal_hold", "booking_id",
)  # fmt: skip
EMPTY_COLUMNS = (
    "number", "size_type", "station_id", "owner_scac", "returned_at", "import_container_id", "port_distance_km",
    "used_at", "used_by_id",
)  # fmt: skip
COMMODITIES = ("Christmas decorations", "Small commodities", "Toys", "Hardware", "Textiles", "Furniture",
               "Auto parts", "Solar panels", "Ceramics", "Electronics")  # fmt: skip


@dataclass(frozen=True)
class ImportBox:
    """When an import box did what, as its events say (None: not yet, at the fill's `now`)."""

    number: str
    off_vessel: datetime  # DISC at the terminal, from the vessel
    on_train: datetime  # LOAD at the terminal
    at_station: datetime  # DISC at the station
    available: datetime  # AVPU, laden: no hold left (customs released)
    delivered: datetime | None  # GTOT, laden
    returned: datetime | None  # GTIN, empty

    @property
    def status(self) -> str:
        return "at_station" if self.delivered is None else "delivered" if self.returned is None else "returned"

    @property
    def last(self) -> datetime:
        return self.returned or self.delivered or self.available


class Rows:
    """The COPY lines of bookings, their lines, containers, arriving containers, returned empties and events, from
    the plan; deterministic per seed (and the fill's `now`, which decides how far the latest imports got)."""

    def __init__(self, network: Network, plan: Plan, first_booking_id: int, seed: int, org_ids: dict, *,
                 first_container_id: int = 1, now: datetime | None = None):  # fmt: skip
        self.network, self.plan, self.first_id = network, plan, first_booking_id
        self.first_container_id = first_container_id
        self.now = now or datetime.now(UTC)
        self.seed = seed
        self.org = org_ids
        self.details = {code: json.dumps({"size_type": code}) for code, _s, _t in SIZE_TYPES}
        pool_rng = random.Random(seed + 1)  # noqa: S311 - test data
        pool = max(50, len(plan) // 3)  # boxes in circulation: each makes several journeys a year
        self.boxes = [self._number(pool_rng) for _ in range(pool)]
        self.box_first = list(itertools.accumulate(plan.quantity, initial=0))  # booking n's first box: its row
        self.matched: dict[tuple[int, int], tuple[int, str]] = {}  # export (n, k) -> (import box, its number)
        self.used: dict[int, tuple[int, datetime]] = {}  # import box -> (export box, handed out)
        self._match_back(random.Random(seed + 4))  # noqa: S311 - test data

    @staticmethod
    def _number(rng: random.Random) -> str:
        from stdnum import iso6346

        body = f"{rng.choice(OWNERS)}{rng.randrange(10**6):06d}"
        digit = int(iso6346.calc_check_digit(body))
        return f"{body}{(digit + 1) % 10}"  # a wrong check digit: never a real box's number

    @staticmethod
    def import_number(box: int) -> str:
        from stdnum import iso6346

        body = f"{IMPORT_OWNERS[box % len(IMPORT_OWNERS)]}{box // len(IMPORT_OWNERS):06d}"
        return f"{body}{(int(iso6346.calc_check_digit(body)) + 1) % 10}"  # wrong, as the exports' boxes

    def reference(self, n: int) -> str:
        return f"BK-{self._day(n).year}-{self.first_id + n:06d}"

    def _day(self, n: int) -> date:
        return self.network.first_day + timedelta(days=self.plan.day[n])

    def _departure(self, n: int):
        departures = self.network.import_departures if self.plan.imports[n] else self.network.departures
        return departures[self.plan.station[n], self.plan.day[n]]

    def _call(self, n: int):
        """An export's vessel call (the one its train makes), an import's (the one that came in the day before its
        train left the terminal, and sails that evening)."""
        station, day = self.plan.station[n], self.plan.day[n]
        if self.plan.imports[n]:
            return self.network.calls[station % len(TERMINALS), day]
        return self.network.calls[call_for(self.network, station, day)]

    def _late(self, n: int) -> bool:
        """An import its consignee booked only once its boxes were off the vessel."""
        return self.plan.imports[n] and n % LATE_BOOKED == 1

    def _created(self, n: int, departure, call) -> datetime:
        if self._late(n):  # the vessel arrives at 12:00, its boxes are off by 14:10, the train leaves next morning
            return call.actual_arrival + timedelta(hours=3, minutes=n % 600)
        if self.plan.imports[n]:  # booked by the consignee after the port announced it, before the vessel came
            return call.actual_arrival - timedelta(days=2 + n % 4, minutes=n % 600)
        return departure.planned_departure - timedelta(days=3 + n % 9, minutes=n % 600)

    def _boxes(self, n: int, rng: random.Random) -> list[str]:
        """An export's boxes: from the pool, or a returned import empty of its station where match-back chose one."""
        chosen: list[str] = []
        while len(chosen) < self.plan.quantity[n]:
            box = self.boxes[int(rng.random() * len(self.boxes))]
            if box not in chosen:
                chosen.append(box)
        return [self.matched[n, k][1] if (n, k) in self.matched else box for k, box in enumerate(chosen)]

    def _declared(self, n: int, call) -> datetime:
        """When an import's declaration was drafted: six hours after the booking, at once for a late-booked one."""
        return self._created(n, None, call) + timedelta(minutes=30 if self._late(n) else 6 * 60)

    def _released(self, n: int, call, at_station: datetime) -> datetime:
        """Customs released an import on the vessel's arrival (or an hour after a late-booked one's declaration was
        submitted), or (one in five) only after it reached the station."""
        if n % 5 == 0:
            return at_station + timedelta(hours=3 + n % 20)
        if self._late(n):
            return self._declared(n, call) + timedelta(minutes=80)
        return call.actual_arrival + timedelta(hours=4)

    def import_box(self, n: int, k: int) -> ImportBox:
        departure, call = self._departure(n), self._call(n)
        box = self.box_first[n] + k
        h = (box * 2_654_435_761 + self.seed) % 2**32
        at_station = departure.actual_arrival + timedelta(hours=1, minutes=5 * k)
        available = max(at_station, self._released(n, call, at_station))
        delivered = available + timedelta(hours=2 + h % 190)
        returned = delivered + timedelta(days=1 + (h >> 8) % 18, hours=(h >> 16) % 9)
        return ImportBox(
            number=self.import_number(box), off_vessel=call.actual_arrival + timedelta(hours=2, minutes=5 * k),
            on_train=departure.actual_departure - timedelta(hours=2, minutes=-3 * k), at_station=at_station,
            available=available, delivered=delivered if delivered <= self.now else None,
            returned=returned if returned <= self.now and delivered <= self.now else None,
        )  # fmt: skip

    def _empty_out(self, n: int) -> datetime:
        """When an export's empties were handed out (GTOT, empty)."""
        departure = self._departure(n)
        leaves = departure.actual_departure
        return leaves - timedelta(days=3 + n % 9, minutes=n % 600) + timedelta(hours=8)

    def _match_back(self, rng: random.Random) -> None:
        """Which export boxes the station handed out as returned import empties: at the same station, of the same
        size-type, returned before the export's empties went out, oldest first, MATCH_BACK of the times one waits.
        Decided before any row is written, so the containers, the events and ReturnedEmpty.used_by agree."""
        plan = self.plan
        stock: dict[tuple[int, str], list] = {}
        wanted: dict[tuple[int, str], list] = {}
        for n in range(len(plan)):
            key = plan.station[n], SIZE_TYPES[plan.size[n]][0]
            if plan.imports[n]:
                for k in range(plan.quantity[n]):
                    box = self.import_box(n, k)
                    if box.returned is not None:
                        stock.setdefault(key, []).append((box.returned, self.box_first[n] + k, box.number))
            else:
                out = self._empty_out(n)
                wanted.setdefault(key, []).extend((out, n, k) for k in range(plan.quantity[n]))
        for key, outs in wanted.items():
            back = sorted(stock.get(key, ()))
            returned_at = [row[0] for row in back]
            taken = 0  # back[:taken] are gone: the oldest first
            for out, n, k in sorted(outs):
                if taken < bisect.bisect_left(returned_at, out) and rng.random() < MATCH_BACK:
                    _at, box, number = back[taken]
                    taken += 1
                    self.matched[n, k] = box, number
                    self.used[box] = self.box_first[n] + k, out

    def bookings(self):
        plan = self.plan
        for n in range(len(plan)):
            departure, call = self._departure(n), self._call(n)
            code, size, teu = SIZE_TYPES[plan.size[n]]
            quantity = plan.quantity[n]
            rail, road = PRICE[size]
            transport = rail * quantity
            handling, documentation = PORT_HANDLING * quantity, DOCUMENTATION
            total = transport + handling + documentation
            road_total = road * quantity
            created = self._created(n, departure, call)
            if plan.imports[n]:
                boxes = [self.import_box(n, k) for k in range(quantity)]
                status = "at_station" if any(box.delivered is None for box in boxes) else "delivered"
                updated, free_days = max(box.last for box in boxes), 5
                free_start, commodity, direction = departure.actual_arrival.date(), IMPORT_COMMODITIES[n % 5], "import"
            else:
                status, updated, free_days, direction = "sailed", call.etd, 7, "export"
                free_start, commodity = departure.service_date - timedelta(days=2), COMMODITIES[n % len(COMMODITIES)]
            yield _line((
                self.first_id + n, self.reference(n), self.network.shippers[plan.shipper[n]], None, departure.pk,
                call.pk, call.pk, DESTINATIONS[call.pk % len(DESTINATIONS)], status, teu * quantity,
                commodity, Decimal(4000 + 9000 * quantity), "", "", None, None, free_days,
                free_start, "CNY", transport, handling, documentation, total,
                road_total, road_total - total, created, 0, created, updated, created + timedelta(minutes=2), None,
                direction,
            ))  # fmt: skip

    def lines(self):
        plan = self.plan
        for n in range(len(plan)):
            code, size, teu = SIZE_TYPES[plan.size[n]]
            rail, road = PRICE[size]
            yield _line((self.first_id + n, code, plan.quantity[n], teu * plan.quantity[n],
                         rail + PORT_HANDLING, road))  # fmt: skip

    def containers(self):
        rng = random.Random(self.seed + 2)  # noqa: S311 - test data
        plan = self.plan
        for n in range(len(plan)):
            departure, call = self._departure(n), self._call(n)
            code = SIZE_TYPES[plan.size[n]][0]
            first = self.first_container_id + self.box_first[n]
            if plan.imports[n]:
                created = self._created(n, departure, call)
                for k in range(plan.quantity[n]):
                    box = self.import_box(n, k)
                    yield _line((
                        first + k, self.first_id + n, box.number, code, box.status, box.returned is None,
                        f"SI{self.first_id + n:08d}{k}", None, None, "", created, None, box.last, box.at_station,
                        box.available, box.delivered, box.returned, None,
                    ))  # fmt: skip
                continue
            gate_in = departure.actual_arrival + timedelta(hours=2)
            out = self._empty_out(n)
            for k, box in enumerate(self._boxes(n, rng)):
                yield _line((
                    first + k, self.first_id + n, box, code, "sailed", False, f"SL{self.first_id + n:08d}{k}",
                    Decimal(20000 + (n * 7 + k) % 8000), 1, "Zhang Wei",
                    departure.planned_departure - timedelta(days=3), gate_in, call.etd, None, None, None, None, out,
                ))  # fmt: skip

    def arrivals(self):
        """The import manifest: each import box announced on its vessel call, discharged, booked."""
        plan, port = self.plan, self.org["port"]
        for n in range(len(plan)):
            if not plan.imports[n]:
                continue
            departure, call = self._departure(n), self._call(n)
            booked = call.actual_arrival if self._late(n) else self._created(n, departure, call)
            announced = booked - timedelta(days=1)
            shipper = self.network.shippers[plan.shipper[n]]
            for k in range(plan.quantity[n]):
                box = self.import_box(n, k)
                yield _line((
                    call.pk, box.number, SIZE_TYPES[plan.size[n]][0], f"SI{self.first_id + n:08d}{k}",
                    Decimal(12000 + (n * 7 + k) % 14000), f"YB{call.voyage}{self.first_id + n:08d}",
                    DESTINATIONS[call.pk % len(DESTINATIONS)], shipper, port, announced, box.off_vessel, False, False,
                    self.first_id + n,
                ))  # fmt: skip

    def empties(self):
        """The returned import empties: each station's stock, those match-back handed out with their export box."""
        plan = self.plan
        for n in range(len(plan)):
            if not plan.imports[n]:
                continue
            service = self.network.import_services[plan.station[n]]
            for k in range(plan.quantity[n]):
                box = self.import_box(n, k)
                if box.returned is None:
                    continue
                used_by, used_at = self.used.get(self.box_first[n] + k, (None, None))
                yield _line((
                    box.number, SIZE_TYPES[plan.size[n]][0], service.station.pk, "COSU", box.returned,
                    self.first_container_id + self.box_first[n] + k, service.distance_km, used_at,
                    None if used_by is None else self.first_container_id + used_by,
                ))  # fmt: skip

    def _event(self, at, created, kind, code, place, org, *, classifier="ACT", mode="", transport="", equipment="",
               empty="", booking="", document_type="", document="", reason="", details="{}") -> str:  # fmt: skip
        return (
            f"{self.rng.getrandbits(128):032x}\t{kind}\t{code}\t{classifier}\t{at.isoformat()}\t{created.isoformat()}\t"
            f"{place[0]}\t{place[1]}\t{place[2]}\t{mode}\t{transport}\t{equipment}\t{empty}\t{booking}\t"
            f"{document_type}\t{document}\t{reason}\t{details}\t{org}\t{NULL}\n"
        )

    def _import_events(self, n: int):
        """An import booking's events: booked, declared and released; each box off the vessel, on the train, off it
        at the station, available, out to the consignee and back empty (as far as it got)."""
        row, minute, plan = self._event, timedelta(minutes=1), self.plan
        departure, call = self._departure(n), self._call(n)
        station, terminal = departure.service.station, departure.service.terminal
        at_station = (station.unlocode, "station", station.code)
        at_terminal = (terminal.unlocode, "terminal", terminal.code)
        reference, shipper = self.reference(n), self.network.shippers[plan.shipper[n]]
        created = self._created(n, departure, call)
        bkg = {"booking": reference, "document_type": "BKG", "document": reference, "transport": departure.reference}
        cus = {"booking": reference, "document_type": "CUS", "document": f"SD-{reference[3:]}-1"}
        yield row(created, created, "SHIPMENT", "DRFT", at_station, shipper, **bkg)
        yield row(created + 2 * minute, created + 2 * minute, "SHIPMENT", "CONF", at_station, shipper, **bkg)
        declared = self._declared(n, call)
        yield row(declared, declared, "SHIPMENT", "DRFT", at_station, shipper, **cus)
        yield row(declared + 20 * minute, declared + 20 * minute, "SHIPMENT", "SUBM", at_station, shipper, **cus)
        details = self.details[SIZE_TYPES[plan.size[n]][0]]
        rail = {"mode": "RAIL", "transport": departure.reference}
        vessel = {"mode": "VESSEL", "transport": call.reference}
        station_org, port_org = self.org["operator"], self.org["port"]
        released = None
        for k in range(plan.quantity[n]):
            box = self.import_box(n, k)
            released = released or self._released(n, call, box.at_station)
            own = {"equipment": box.number, "booking": reference, "details": details, "empty": "LADEN"}
            discharged = {**own, "booking": ""} if self._late(n) else own  # nobody had booked the box yet
            yield row(box.off_vessel, box.off_vessel, "EQUIPMENT", "DISC", at_terminal, port_org, **vessel,
                      **discharged)  # fmt: skip
            yield row(box.on_train, box.on_train, "EQUIPMENT", "LOAD", at_terminal, port_org, **rail, **own)
            yield row(box.at_station, box.at_station, "EQUIPMENT", "DISC", at_station, station_org, **rail, **own)
            yield row(box.available, box.available, "EQUIPMENT", "AVPU", at_station, station_org, **own)
            if box.delivered:
                yield row(box.delivered, box.delivered, "EQUIPMENT", "GTOT", at_station, station_org, **own)
            if box.returned:
                yield row(box.returned, box.returned, "EQUIPMENT", "GTIN", at_station, station_org,
                          **{**own, "empty": "EMPTY"})  # fmt: skip
        yield row(released, released, "SHIPMENT", "RELS", at_station, self.org["customs"], **cus)

    def _train_events(self, departure, origin, destination):
        """A train's estimated and actual departure from `origin` and its arrival at `destination` (a station or a
        terminal)."""
        def place(where):
            return where.unlocode, "terminal" if hasattr(where, "port_unlocode") else "station", where.code

        row, railway = self._event, self.org["railway"]
        rail = {"mode": "RAIL", "transport": departure.reference}
        told = departure.planned_departure - timedelta(hours=3)
        yield row(departure.estimated_departure, told, "TRANSPORT", "DEPA", place(origin), railway,
                  classifier="EST", reason="Late feeder train", **rail)  # fmt: skip
        yield row(departure.actual_departure, departure.actual_departure, "TRANSPORT", "DEPA", place(origin), railway,
                  **rail)  # fmt: skip
        yield row(departure.actual_arrival, departure.actual_arrival, "TRANSPORT", "ARRI", place(destination),
                  railway, **rail)  # fmt: skip

    def events(self):
        """Every booking's events, then every train's and vessel call's own."""
        self.rng = random.Random(self.seed + 3)  # noqa: S311 - test data
        box_rng = random.Random(self.seed + 2)  # noqa: S311 - the same boxes as containers()
        plan, row, minute = self.plan, self._event, timedelta(minutes=1)
        for n in range(len(plan)):
            if plan.imports[n]:
                yield from self._import_events(n)
                continue
            departure, call = self._departure(n), self._call(n)
            station, terminal = departure.service.station, departure.service.terminal
            at_station = (station.unlocode, "station", station.code)
            at_terminal = (terminal.unlocode, "terminal", terminal.code)
            reference, shipper = self.reference(n), self.network.shippers[plan.shipper[n]]
            leaves = departure.actual_departure
            created = leaves - timedelta(days=3 + n % 9, minutes=n % 600)
            bkg = {"booking": reference, "document_type": "BKG", "document": reference,
                   "transport": departure.reference}  # fmt: skip
            declaration = f"SD-{reference[3:]}-1"
            cus = {"booking": reference, "document_type": "CUS", "document": declaration}
            yield row(created, created, "SHIPMENT", "DRFT", at_station, shipper, **bkg)
            yield row(created + 2 * minute, created + 2 * minute, "SHIPMENT", "CONF", at_station, shipper, **bkg)
            asked = created + 30 * minute
            yield row(asked, asked, "SHIPMENT", "REQS", at_station, shipper, booking=reference, document_type="CBR",
                      document=reference)  # fmt: skip
            ready = asked + timedelta(hours=5)
            yield row(ready, ready, "EQUIPMENT", "AVPU", at_station, self.org["operator"], empty="EMPTY",
                      booking=reference)  # fmt: skip
            declared = created + timedelta(days=1)
            yield row(declared, declared, "SHIPMENT", "DRFT", at_station, shipper, **cus)
            yield row(declared + 20 * minute, declared + 20 * minute, "SHIPMENT", "SUBM", at_station, shipper, **cus)
            released = declared + timedelta(hours=3)
            yield row(released, released, "SHIPMENT", "RELS", at_station, self.org["customs"], **cus)
            details = self.details[SIZE_TYPES[plan.size[n]][0]]
            rail = {"mode": "RAIL", "transport": departure.reference}
            arrived = departure.actual_arrival
            for box in self._boxes(n, box_rng):
                own = {"equipment": box, "booking": reference, "details": details}
                out, gated = created + timedelta(hours=8), leaves - timedelta(hours=10)
                loaded, discharged = leaves - timedelta(hours=2), arrived + timedelta(hours=1)
                gate_terminal, on_vessel = arrived + timedelta(hours=2), call.etd - timedelta(hours=6)
                station_org, port_org = self.org["operator"], self.org["port"]
                yield row(out, out, "EQUIPMENT", "GTOT", at_station, station_org, empty="EMPTY", **own)
                yield row(gated, gated, "EQUIPMENT", "GTIN", at_station, station_org, empty="LADEN", **own)
                yield row(loaded, loaded, "EQUIPMENT", "LOAD", at_station, station_org, empty="LADEN", **rail, **own)
                yield row(discharged, discharged, "EQUIPMENT", "DISC", at_terminal, port_org, empty="LADEN", **rail,
                          **own)  # fmt: skip
                yield row(gate_terminal, gate_terminal, "EQUIPMENT", "GTIN", at_terminal, port_org, empty="LADEN",
                          **own)  # fmt: skip
                yield row(on_vessel, on_vessel, "EQUIPMENT", "LOAD", at_terminal, port_org, empty="LADEN",
                          mode="VESSEL", transport=call.reference, **own)  # fmt: skip
        for departure in self.network.departures.values():  # station -> terminal
            yield from self._train_events(departure, departure.service.station, departure.service.terminal)
        for departure in self.network.import_departures.values():  # terminal -> station
            yield from self._train_events(departure, departure.service.terminal, departure.service.station)
        for call in self.network.calls.values():
            terminal = call.terminal
            at_terminal = (terminal.unlocode, "terminal", terminal.code)
            yield row(call.actual_arrival, call.actual_arrival, "TRANSPORT", "ARRI", at_terminal, self.org["port"],
                      mode="VESSEL", transport=call.reference)  # fmt: skip
            yield row(call.etd, call.etd, "TRANSPORT", "DEPA", at_terminal, self.org["port"], mode="VESSEL",
                      transport=call.reference)  # fmt: skip


# --- Main ------------------------------------------------------------------------------------------------


@dataclass
class Generated:
    schema: str
    scale: float
    days: int
    reused: bool
    import_share: float = IMPORT_SHARE
    bookings: int = 0
    containers: int = 0
    import_containers: int = 0
    matched_back: int = 0
    events: int = 0
    teu: int = 0
    seconds: dict = field(default_factory=dict)
    table_bytes: int = 0

    def summary(self) -> str:
        how = "reused" if self.reused else "written in " + ", ".join(f"{k} {v:.0f} s" for k, v in self.seconds.items())
        return (
            f"{self.schema}: scale {self.scale:g}, {self.days} days: {self.bookings:,} bookings, "
            f"{self.containers:,} containers ({self.import_containers:,} imports, share {self.import_share:.2f} "
            f"asked; {self.matched_back:,} exports in returned import empties), "
            f"{self.teu:,} TEU, {self.events:,} events ({self.table_bytes / 2**20:,.0f} MB with indexes); "
            f"{how}"
        )


def import_share_checked(parser, asked: float | None) -> float:
    """The import share a benchmark's `--import-share` asked for, else BENCH_IMPORT_SHARE, else a third; the
    parser's error unless between 0 and 1."""
    if asked is None:
        try:
            asked = import_share_default()
        except ValueError:
            parser.error("BENCH_IMPORT_SHARE must be a number between 0 and 1")
    if not 0 <= asked <= 1:
        parser.error("--import-share must be between 0 and 1")
    return asked


def import_share_default() -> float:
    """BENCH_IMPORT_SHARE, else IMPORT_SHARE: the share every benchmark's fill has unless told."""
    value = os.environ.get("BENCH_IMPORT_SHARE", "").strip()
    return float(value) if value else IMPORT_SHARE


def _finished(schema: str, import_share: float) -> dict | None:
    from intermodal.models import Organisation

    marker = Organisation.objects.filter(code=MARKER).first()
    done = json.loads(marker.name) if marker else None
    if not done or done.get("version") != VERSION or done.get("import_share") != round(import_share, 4):
        return None
    return done


def _counts(cursor) -> dict:
    cursor.execute("SELECT count(*), coalesce(sum(teu), 0) FROM bookings_booking")
    bookings, teu = cursor.fetchone()
    cursor.execute("SELECT count(*), count(*) FILTER (WHERE b.direction = 'import') FROM bookings_container c "
                   "JOIN bookings_booking b ON b.id = c.booking_id")
    containers, imports = cursor.fetchone()
    cursor.execute("SELECT count(used_by_id) FROM inbound_returnedempty")
    (matched,) = cursor.fetchone()
    cursor.execute(f"SELECT count(*), ({common.EVENTS_SIZE_SQL}) FROM intermodal_event")  # noqa: S608 - constant
    events, size = cursor.fetchone()
    return {"bookings": bookings, "containers": containers, "teu": int(teu), "events": events, "bytes": size,
            "import_containers": imports, "matched_back": matched}


def generate(
    url: str, scale: float, *, days: int = DAYS, fresh: bool = False, seed: int = 1_500_000, quiet: bool = False,
    import_share: float | None = None,
) -> Generated:
    """Fill the schema of `scale` (and `days`) with its traffic unless it is filled already; Django must be set up.
    Fewer days than a year: the same traffic a day, for those days only (a small table for comparisons).
    `import_share`: of the bookings, imports (None: BENCH_IMPORT_SHARE, else a third); a fill of another share is
    made again."""
    import_share = import_share_default() if import_share is None else import_share
    if not 0 <= import_share <= 1:
        raise ValueError("The import share is between 0 and 1.")
    from django.db import connection, transaction

    from bench.track_lookup import django_use_schema, schema_ensure, search_path

    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))  # noqa: E731
    schema = schema_name(scale, days)
    schema_ensure(url, schema, fresh=fresh)
    django_use_schema(schema)
    done = _finished(schema, import_share)
    if done is not None:
        # Its size now, not at the fill: a migration since may have changed the indexes (intermodal 0012).
        with connection.cursor() as cursor:
            cursor.execute(common.EVENTS_SIZE_SQL)
            size = cursor.fetchone()[0]
        connection.close()
        return Generated(schema=schema, scale=scale, days=days, reused=True, import_share=import_share,
                         bookings=done["bookings"], containers=done["containers"], teu=done["teu"],
                         events=done["events"], table_bytes=size,
                         import_containers=done["import_containers"], matched_back=done["matched_back"])  # fmt: skip
    with connection.cursor() as cursor:
        # A fill cut short leaves what it wrote before its events too (its network first, then its bookings).
        cursor.execute("SELECT EXISTS (SELECT 1 FROM intermodal_event) "
                       "OR EXISTS (SELECT 1 FROM intermodal_organisation WHERE code = %s)", [NETWORK_OPERATOR])
        if cursor.fetchone()[0]:
            connection.close()
            say(f"bench: {schema} holds an unfinished fill or one of an earlier version; making it again")
            schema_ensure(url, schema, fresh=True)
            django_use_schema(schema)
    outcome = Generated(schema=schema, scale=scale, days=days, reused=False, import_share=import_share)
    rng = random.Random(seed)  # noqa: S311 - test data
    today = datetime.now(UTC).astimezone(common_zone()).date()
    first_day = today - timedelta(days=days + 8)  # the last trains' vessels have sailed by yesterday
    began = time.perf_counter()
    with transaction.atomic():
        network = network_create(scale, first_day, days)
        containers = max(1, round(CONTAINERS_AT_SCALE_1 * scale * days / DAYS))
        plan = plan_make(rng, containers, len(network.shippers), days, import_share)
        departures_create(network, plan, days)
    outcome.seconds["network"] = time.perf_counter() - began
    say(f"bench: {schema}: network and {len(network.departures):,} export and {len(network.import_departures):,} "
        f"import departures; {len(plan):,} bookings to write ({sum(plan.imports):,} imports)")
    connection.close()

    raw = common.connect(url, options=search_path(schema))
    try:
        with raw.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")  # a fill, not a measurement
            # The tracking read model is made once from all the events at the end, not merged COPY by COPY.
            cursor.execute("SET tracking.facts = 'off'")
            first_id = _reserve_ids(cursor, "bookings_booking", len(plan))
            first_container = _reserve_ids(cursor, "bookings_container", sum(plan.quantity))
            orgs = {"operator": network.operator.pk, "port": network.port.pk, "railway": network.railway.pk,
                    "customs": network.customs.pk}  # fmt: skip
            started = time.perf_counter()
            rows = Rows(network, plan, first_id, seed, orgs, first_container_id=first_container)
            outcome.seconds["match-back"] = time.perf_counter() - started
            # Each month of the year gets its partition before its events come (else they would all wait in the
            # default partition): intermodal migration 0011's function.
            cursor.execute("SELECT intermodal_event_partition_ensure(month::date) FROM generate_series("
                           "date_trunc('month', %s::date - 30), date_trunc('month', %s::date), '1 month') AS month",
                           [first_day, today])
            for name, table, columns, lines in (
                ("bookings", "bookings_booking", BOOKING_COLUMNS, rows.bookings()),
                ("lines", "bookings_bookingline", LINE_COLUMNS, rows.lines()),
                ("containers", "bookings_container", CONTAINER_COLUMNS, rows.containers()),
                ("arriving containers", "inbound_arrivingcontainer", ARRIVAL_COLUMNS, rows.arrivals()),
                ("returned empties", "inbound_returnedempty", EMPTY_COLUMNS, rows.empties()),
                ("events", "intermodal_event", common.EVENT_COLUMNS, rows.events()),
            ):
                started = time.perf_counter()
                copied = copy_lines(cursor, table, columns, lines)
                raw.commit()
                outcome.seconds[name] = time.perf_counter() - started
                say(f"bench: {schema}: COPY {copied:,} {name} in {outcome.seconds[name]:.1f} s")
            started = time.perf_counter()
            # The planner must know the tables' sizes before it joins a million containers to ten million events:
            # without their statistics it nested its way through them (16+ minutes at scale 1, not 3).
            for table in FILLED:
                cursor.execute(f"ANALYZE {table}")
            raw.commit()
            cursor.execute("SELECT tracking_facts_rebuild(NULL, NULL, NULL, NULL)")
            made = cursor.fetchone()[0]
            raw.commit()
            outcome.seconds["tracking facts"] = time.perf_counter() - started
            say(f"bench: {schema}: tracking facts of {made[0]:,} containers, {made[1]:,} bookings, {made[2]:,} "
                f"departures and {made[3]:,} vessel calls in {outcome.seconds['tracking facts']:.1f} s")
        raw.autocommit = True
        with raw.cursor() as cursor:
            started = time.perf_counter()
            for table in FILLED:
                cursor.execute(f"VACUUM (ANALYZE) {table}")
            outcome.seconds["vacuum"] = time.perf_counter() - started
            counts = _counts(cursor)
    finally:
        raw.close()
    django_use_schema(schema)
    from intermodal.models import Organisation, PartyKind

    Organisation.objects.create(
        code=MARKER, name=json.dumps({**counts, "version": VERSION, "import_share": round(import_share, 4)}),
        kind=PartyKind.PLATFORM_ADMIN, is_active=False,
    )
    connection.close()
    outcome.bookings, outcome.containers, outcome.teu = counts["bookings"], counts["containers"], counts["teu"]
    outcome.events, outcome.table_bytes = counts["events"], counts["bytes"]
    outcome.import_containers, outcome.matched_back = counts["import_containers"], counts["matched_back"]
    return outcome


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale",
        type=float,
        default=0.1,
        help="1 = a year of Ningbo's sea-rail traffic, ~1M containers and ~10M events (default 0.1)",
    )
    parser.add_argument("--days", type=int, default=DAYS, help=f"days of traffic (default {DAYS}: a year)")
    parser.add_argument("--fresh", action="store_true", help="drop the schema first and fill it again")
    parser.add_argument("--import-share", type=float, default=None,
                        help="of the bookings, imports (terminal -> station): 0 to 1 (default: BENCH_IMPORT_SHARE, "
                             "else a third)")
    args = parser.parse_args(argv)  # fmt: skip
    args.import_share = import_share_checked(parser, args.import_share)
    if not 0 < args.scale <= 10:
        parser.error("--scale must be above 0 and at most 10")
    if not 1 <= args.days <= 3 * DAYS:
        parser.error(f"--days must be between 1 and {3 * DAYS}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    common.exit_on_sigterm()
    url = common.database_url(NOT_POSTGRES)
    created = common.ensure_database(url)
    print(f"bench: database {common.database_name(url)} {'created' if created else 'exists'}", flush=True)
    common.django_setup(url, common.redis_url(), migrate=False)
    began = time.monotonic()
    outcome = generate(url, args.scale, days=args.days, fresh=args.fresh, import_share=args.import_share)
    print(f"bench: {outcome.summary()}")
    print(f"bench: {time.monotonic() - began:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
