"""P7 Figures dashboard: time of GET /figures/ (a year of figures) through gunicorn, with 10k and with 10M events
of history at scale 1 (1M at the default scale 0.1).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/intermodal_bench .venv/bin/python bench/dashboard.py --scale 1
    # options: --small 10000 --events N --rounds 15 --repeats 5 --workers 3 --fresh --no-explain

The data grows as a real network does. Each size lives in its own schema of the bench database
(`bench_dashboard_<events>`, created and migrated when missing; kept between runs, so the big fill is made once)
and holds a year (up to yesterday) of a 24-station network, written by `INSERT ... SELECT generate_series`:

- fixed whatever the size: 24 stations (12 in Zhejiang), two daily rail services each (one to one of two
  terminals, one back: the import train), 365 departures per service, two vessel calls a day;
- growing with the events: bookings (one per 15 events, 1-3 containers of 22G1 or 42G1, 1 in 40 cancelled), their
  containers, one released declaration each (1-30 hours, 1 in 10 inspected, a goods line), shippers (one per 200
  bookings a year: a shipper's own volume stays the same as the network grows), and the events table itself
  (`--events` rows). Two in three bookings are exports (1 in 25 rolled, one empty request each, waits of 2-71
  hours, the boxes handed out then); one in three are imports, as bench/generate.py's year holds them: announced
  on the vessel call of the day before the import train, discharged at the station, available 0-3 hours later
  (1 in 20 after 8 hours: late),
  gated out 0-8 days later and returned empty 1-25 days after that (what would fall after yesterday has not
  happened), so the import figures (on-schedule, dwell, detention, demurrage and detention charged) have a year to
  read; three in five returned empties are handed out for a later export of their size at their station
  (match-back).

It then asks for the dashboard of the last twelve months over HTTP from gunicorn as deployed (one server per size,
`--workers` sync workers, DEBUG off, gunicorn.conf.py's 30 s timeout; a new connection per page, a signed-in
session's cookie), as four parties: the port (the whole network), a station operator (one station), a shipper
(its own bookings) and a local government (Zhejiang, 12 stations). One request per party and size per round, the
sizes alternating, after a warm-up; the ratio big/small of each party's median, the worst party's counting; the
rounds are repeated `--repeats` times (5) and the median of the repetitions' worst ratios is the figure, against
the goal (<= 3). It prints each party's median and p95 (of the last repetition) and the query plans of the
largest figures at the big size. A wrong answer (not 200, or figures that do not match the rows
written: TEU, empty waits, and the import figures and match-back of each party, counted with plain SQL) exits 1;
the time goal prints PASS/FAIL only.
"""

import argparse
import contextlib
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field

try:
    from bench import common
except ImportError:  # run as a script: bench/ is on sys.path, the project root is not
    import common

SMALL = 10_000
BIG = 1_000_000
RATIO_GOAL = 3.0
EVENTS_PER_BOOKING = 15
BOOKINGS_PER_SHIPPER = 200
STATIONS = 24
SYNTHETIC = "bench-dashboard-feed"
FILL_VERSION = 2  # of the rows written: 2 holds both directions
FEED_NAME = f"Bench feed v{FILL_VERSION}"
DEFAULT_DETENTION_FREE_DAYS = 14  # inbound.services: a carrier without its own terms (the bench's has none)
NOT_POSTGRES = "The figures are PostgreSQL aggregates over its rollups; SQLite would measure another thing."
PARTIES = ("port", "station", "shipper", "government")


def schema_name(size: int) -> str:
    return f"bench_dashboard_{size}"


def schema_ensure(url: str, schema: str, *, fresh: bool) -> None:
    from psycopg2 import sql

    connection = common.connect(url)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            if fresh:
                cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    finally:
        connection.close()


def django_use(schema: str, *, migrate: bool = False) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection

    connection.close()
    connection.settings_dict.setdefault("OPTIONS", {})["options"] = f"-c search_path={schema}"
    ContentType.objects.clear_cache()
    if migrate:
        call_command("migrate", verbosity=0, interactive=False)


# --- The year of data ------------------------------------------------------------------------------------

FILL_SQL = f"""
INSERT INTO intermodal_organisation (code, name, name_zh, kind, city, province, uscc, is_active, created_at)
SELECT 'bench-shipper-' || g, 'Bench Shipper ' || g, '', 'enterprise', '', '', '', true, now()
  FROM generate_series(1, %(shippers)s) g
UNION ALL SELECT 'bench-station-op-' || g, 'Bench Station Operator ' || g, '', 'station_operator', '', '', '', true,
  now() FROM generate_series(1, {STATIONS}) g
UNION ALL SELECT 'bench-railway', 'Bench Railway', '', 'railway', '', '', '', true, now()
UNION ALL SELECT 'bench-port', 'Bench Port', '', 'port', '', '', '', true, now()
UNION ALL SELECT 'bench-gov', 'Bench Zhejiang', '', 'local_government', '', 'Zhejiang', '', true, now()
UNION ALL SELECT '{SYNTHETIC}', '{FEED_NAME}', '', 'railway', '', '', '', true, now();

INSERT INTO stations_location (unlocode, name, name_zh) VALUES ('NLRTM', 'Rotterdam', '鹿特丹')
  ON CONFLICT DO NOTHING;

INSERT INTO stations_terminal (name, name_zh, code, unlocode, port_unlocode, handling_buffer_hours, operator_id)
SELECT t.name, t.name, t.code, t.unlocode, 'CNNGB', 6,
       (SELECT id FROM intermodal_organisation WHERE code = 'bench-port')
  FROM (VALUES ('Beilun', 'BEILUN', 'CNBLG'), ('Meishan', 'MEISHAN', 'CNMSG')) AS t(name, code, unlocode);

INSERT INTO stations_station (name, name_zh, code, city, city_zh, province, province_zh, unlocode, timezone,
                              has_empty_depot, has_customs_supervision, issues_bills_of_lading, operator_id)
SELECT 'Bench Station ' || g, '测试站' || g, 'BST-' || lpad(g::text, 2, '0'), 'City ' || g, '城市' || g,
       CASE WHEN g <= 12 THEN 'Zhejiang' WHEN g <= 18 THEN 'Anhui' ELSE 'Jiangxi' END, '省', 'CNYIU',
       'Asia/Shanghai', true, true, g %% 2 = 1, o.id
  FROM generate_series(1, {STATIONS}) g JOIN intermodal_organisation o ON o.code = 'bench-station-op-' || g;

INSERT INTO stations_service (code, short_code, mode, weekdays, departure_time, transit_hours, closing_hours,
                              teu_capacity, distance_km, dangerous_goods_classes, is_active, operator_id, station_id,
                              terminal_id, direction)
SELECT s.code || v.suffix, v.short || right(s.code, 2), 'RAIL', '[1,2,3,4,5,6,7]', '09:30', 8, 4, 100, 300, '[]',
       true, (SELECT id FROM intermodal_organisation WHERE code = 'bench-railway'), s.id,
       (SELECT id FROM stations_terminal WHERE code = CASE WHEN s.id %% 2 = 0 THEN 'BEILUN' ELSE 'MEISHAN' END),
       v.direction
  FROM stations_station s
 CROSS JOIN (VALUES ('-R', 'BS', 'export'), ('-I', 'BI', 'import')) AS v(suffix, short, direction);

INSERT INTO stations_tariff (container_size, transport_price, port_handling, documentation, road_haulage_price,
                             currency, service_id)
SELECT t.size, t.price, 380, 150, t.road, 'CNY', s.id
  FROM stations_service s
 CROSS JOIN (VALUES ('20', 1350, 2700), ('40', 2200, 4400), ('45', 2400, 4800)) t(size, price, road);

-- A year up to yesterday, in Shanghai: day 0 is 365 days ago.
CREATE TEMP TABLE bench_days AS
SELECT d AS n, (current_date - 365 + d) AS day FROM generate_series(0, 364) d;

INSERT INTO stations_departure (reference, service_date, capacity_teu, booked_teu, closing_time, planned_departure,
                                planned_arrival, actual_departure, actual_arrival, status, service_id)
SELECT s.code || '-' || to_char(x.day, 'YYYYMMDD'), x.day, 100, 0,
       (x.day + time '05:30') AT TIME ZONE 'Asia/Shanghai', (x.day + time '09:30') AT TIME ZONE 'Asia/Shanghai',
       (x.day + time '17:30') AT TIME ZONE 'Asia/Shanghai', (x.day + time '09:30') AT TIME ZONE 'Asia/Shanghai',
       (x.day + time '17:30') AT TIME ZONE 'Asia/Shanghai', 'arrived', s.id
  FROM stations_service s CROSS JOIN bench_days x;

INSERT INTO stations_vesselcall (reference, vessel_name, imo_number, voyage, carrier, carrier_scac, eta, etd, cy_cutoff,
                                 vgm_cutoff, si_cutoff, customs_cutoff, dg_cutoff, actual_departure, terminal_id,
                                 actual_arrival)
SELECT 'BVC-' || t.code || '-' || to_char(x.day, 'YYYYMMDD'), 'Bench Express', '9811000',
       t.code || to_char(x.day, 'YYYYMMDD'), 'Bench Line', 'BNCH', v.etd - interval '30 hours', v.etd,
       v.etd - interval '12 hours', v.etd - interval '12 hours', v.etd - interval '24 hours',
       v.etd - interval '12 hours', v.etd - interval '24 hours', v.etd, t.id, v.etd - interval '30 hours'
  FROM stations_terminal t CROSS JOIN bench_days x
  CROSS JOIN LATERAL (SELECT ((x.day + 1) + time '18:00') AT TIME ZONE 'Asia/Shanghai' AS etd) v;

INSERT INTO stations_vesselcall_destinations (vesselcall_id, location_id) SELECT id, 'NLRTM' FROM stations_vesselcall;

-- Bookings, spread evenly over the year and the stations; shippers in turn. One in three is an import: its
-- containers came in on the vessel call of the day before and go inland on the station's import train.
CREATE TEMP TABLE bench_plan AS
SELECT g, 1 + (g %% {STATIONS}) AS station_no, (g * 365 / (%(bookings)s + 1)) AS day_no,
       1 + (g %% 3) AS quantity, g %% 3 = 0 AS forty, (g / 5) %% 3 = 1 AS imported,
       (g / 5) %% 3 <> 1 AND g %% 25 = 0 AS rolled, g %% 40 = 0 AS cancelled, 1 + (g %% %(shippers)s) AS shipper_no
  FROM generate_series(1, %(bookings)s) g;

INSERT INTO bookings_booking (reference, status, teu, commodity, cargo_weight_kg, un_number, imdg_class, free_days,
                              currency, quote_transport, quote_port_handling, quote_documentation, quote_total,
                              quote_road_haulage, quote_saving, quoted_at, roll_count, created_at, updated_at,
                              confirmed_at, departure_id, destination_id, original_vessel_call_id, shipper_id,
                              vessel_call_id, direction)
SELECT 'BB-' || lpad(p.g::text, 9, '0'),
       CASE WHEN p.cancelled THEN 'cancelled' WHEN p.imported THEN 'delivered' ELSE 'sailed' END,
       p.quantity * CASE WHEN p.forty THEN 2 ELSE 1 END, 'Bench goods', 9000 * p.quantity, '', '',
       CASE WHEN p.imported THEN 5 ELSE 7 END, 'CNY',
       p.quantity * price.transport, p.quantity * 380, p.quantity * 150, p.quantity * (price.transport + 530),
       p.quantity * price.road, p.quantity * (price.road - price.transport - 530),
       d.planned_departure - interval '4 days',
       CASE WHEN p.rolled THEN 1 ELSE 0 END, d.planned_departure - interval '4 days', d.planned_departure,
       d.planned_departure - interval '4 days', d.id, 'NLRTM', original.id, shipper.id,
       CASE WHEN p.rolled THEN later.id ELSE original.id END, CASE WHEN p.imported THEN 'import' ELSE 'export' END
  FROM bench_plan p
  JOIN bench_days x ON x.n = p.day_no
  JOIN stations_station st ON st.code = 'BST-' || lpad(p.station_no::text, 2, '0')
  JOIN stations_service s
    ON s.station_id = st.id AND s.direction = CASE WHEN p.imported THEN 'import' ELSE 'export' END
  JOIN stations_terminal t ON t.id = s.terminal_id
  JOIN stations_departure d ON d.service_id = s.id AND d.service_date = x.day
  JOIN stations_vesselcall original  -- an import's vessel arrived the day before its train
    ON original.reference = 'BVC-' || t.code || '-'
                            || to_char(x.day - CASE WHEN p.imported THEN 1 ELSE 0 END, 'YYYYMMDD')
  LEFT JOIN stations_vesselcall later
    ON later.reference = 'BVC-' || t.code || '-' || to_char(x.day + 1, 'YYYYMMDD')
  JOIN intermodal_organisation shipper ON shipper.code = 'bench-shipper-' || p.shipper_no
  CROSS JOIN LATERAL (SELECT CASE WHEN p.forty THEN 2200 ELSE 1350 END AS transport,
                             CASE WHEN p.forty THEN 4400 ELSE 2700 END AS road) price
 WHERE NOT p.rolled OR later.id IS NOT NULL;

INSERT INTO bookings_bookingline (size_type, quantity, teu, unit_price, unit_road_price, booking_id)
SELECT CASE WHEN b.teu > b.quote_total / (1350 + 530) THEN '42G1' ELSE '22G1' END, q.quantity, b.teu,
       b.quote_total / q.quantity, b.quote_road_haulage / q.quantity, b.id
  FROM bookings_booking b
  CROSS JOIN LATERAL (SELECT (b.cargo_weight_kg / 9000)::int AS quantity) q;

-- An export's boxes were handed out empty when its empty request was picked up (below). An import's boxes were
-- discharged at the station an hour after the train's arrival, available 0-3 hours later (1 in 20: 8 hours, after
-- the promised day), gated out 0-8 days later and returned empty 1-25 days after that: what would lie after the end
-- of the year (yesterday) has not happened yet.
CREATE TEMP TABLE bench_import_times AS
SELECT b.id AS booking_id, d.planned_arrival + interval '1 hour' AS discharged,
       d.planned_arrival + interval '1 hour' + w.hours * interval '1 hour' AS available,
       d.planned_arrival + interval '1 hour' + (w.hours + (b.id * 7) %% 200) * interval '1 hour' AS delivered,
       d.planned_arrival + interval '1 hour' + (w.hours + (b.id * 7) %% 200) * interval '1 hour'
         + (1 + b.id %% 25) * interval '1 day' AS returned
  FROM bookings_booking b JOIN stations_departure d ON d.id = b.departure_id
 CROSS JOIN LATERAL (SELECT CASE WHEN b.id %% 20 = 0 THEN 8 ELSE b.id %% 4 END AS hours) w
 WHERE b.direction = 'import' AND b.status <> 'cancelled';

INSERT INTO bookings_container (number, size_type, status, is_active, seal_number, vgm_signatory, assigned_at,
                                booking_id, station_discharge_at, available_at, delivered_at, returned_at,
                                empty_out_at)
SELECT 'BNCU' || lpad((b.id * 4 + k)::text, 7, '0'), l.size_type,
       CASE WHEN b.status = 'cancelled' THEN 'assigned' WHEN b.direction = 'export' THEN 'sailed'
            WHEN i.returned <= now() THEN 'returned' WHEN i.delivered <= now() THEN 'delivered'
            ELSE 'at_station' END,
       coalesce(b.direction = 'import' AND i.returned > now(), false), '', '', b.created_at, b.id,
       i.discharged, i.available, CASE WHEN i.delivered <= now() THEN i.delivered END,
       CASE WHEN i.returned <= now() THEN i.returned END,
       CASE WHEN b.direction = 'export' AND b.status <> 'cancelled'
            THEN b.quoted_at + (b.id %% 48) * interval '1 hour' + (2 + b.id %% 70) * interval '1 hour' END
  FROM bookings_booking b JOIN bookings_bookingline l ON l.booking_id = b.id
  LEFT JOIN bench_import_times i ON i.booking_id = b.id
  CROSS JOIN LATERAL generate_series(1, l.quantity) k;

UPDATE bookings_booking b SET status = 'at_station'
 WHERE b.direction = 'import' AND b.status = 'delivered'
   AND EXISTS (SELECT FROM bookings_container c WHERE c.booking_id = b.id AND c.delivered_at IS NULL);

-- The import manifest: every import box announced on its vessel call for its consignee, and booked.
INSERT INTO inbound_arrivingcontainer (number, size_type, seal_number, gross_weight_kg, bl_number, consignee_id,
                                       announced_by_id, announced_at, discharged_at, freight_hold, terminal_hold,
                                       booking_id, port_of_loading_id, vessel_call_id)
SELECT c.number, c.size_type, '', 12000, 'BBL' || lpad(b.id::text, 9, '0'), b.shipper_id,
       (SELECT id FROM intermodal_organisation WHERE code = 'bench-port'), b.quoted_at - interval '1 day',
       v.actual_arrival + interval '2 hours', false, false, b.id, 'NLRTM', b.original_vessel_call_id
  FROM bookings_container c JOIN bookings_booking b ON b.id = c.booking_id
  JOIN stations_vesselcall v ON v.id = b.original_vessel_call_id
 WHERE b.direction = 'import';

-- Returned import empties are each station's stock; match-back hands three in five of them out for a later export
-- of the same size-type there, first come first served: each takes the first export box handed out after its return
-- that an earlier one did not take. For the k-th such empty of a station and size-type, with B_k export boxes
-- handed out before its return, that is the export box numbered k + 1 + max(B_j - j, j <= k): after its return,
-- and rising with k, so no box is taken twice.
WITH boxes AS (
  SELECT c.id, c.number, c.size_type, s.station_id, s.distance_km, b.direction,
         coalesce(c.returned_at, c.empty_out_at) AS at
    FROM bookings_container c JOIN bookings_booking b ON b.id = c.booking_id
    JOIN stations_departure d ON d.id = b.departure_id JOIN stations_service s ON s.id = d.service_id
   WHERE c.returned_at IS NOT NULL OR c.empty_out_at IS NOT NULL
), ranked AS (
  SELECT *, row_number() OVER (PARTITION BY station_id, size_type, direction ORDER BY at, id) AS n,
         count(*) FILTER (WHERE direction = 'export')
           OVER (PARTITION BY station_id, size_type ORDER BY at, direction) AS exports_before
    FROM boxes
), taking AS (
  SELECT id, station_id, size_type, at, exports_before,
         row_number() OVER (PARTITION BY station_id, size_type ORDER BY at, id) AS k
    FROM ranked WHERE direction = 'import' AND n %% 5 < 3
), taken AS (
  SELECT id, k + 1 + max(exports_before - k) OVER (PARTITION BY station_id, size_type ORDER BY at, id
                                                   ROWS UNBOUNDED PRECEDING) AS q
    FROM taking
)
INSERT INTO inbound_returnedempty (number, size_type, station_id, owner_scac, returned_at, import_container_id,
                                   port_distance_km, used_at, used_by_id)
SELECT e.number, e.size_type, e.station_id, 'BNCH', e.at, e.id, e.distance_km, x.at, x.id
  FROM ranked e
  LEFT JOIN taken t ON t.id = e.id
  LEFT JOIN ranked x ON x.direction = 'export' AND x.station_id = e.station_id AND x.size_type = e.size_type
                    AND x.n = t.q
 WHERE e.direction = 'import';

UPDATE stations_departure d SET booked_teu = least(100, t.teu)
  FROM (SELECT departure_id, sum(teu) AS teu FROM bookings_booking WHERE status <> 'cancelled'
         GROUP BY departure_id) t
 WHERE t.departure_id = d.id;

INSERT INTO bookings_emptyrequest (size_type, quantity, handed_out, status, requested_at, ready_at, picked_up_at,
                                   booking_id)
SELECT l.size_type, l.quantity, l.quantity, 'picked_up', b.quoted_at + (b.id %% 48) * interval '1 hour',
       b.quoted_at + (b.id %% 48) * interval '1 hour' + interval '1 hour',
       b.quoted_at + (b.id %% 48) * interval '1 hour' + (2 + b.id %% 70) * interval '1 hour', b.id
  FROM bookings_booking b JOIN bookings_bookingline l ON l.booking_id = b.id
 WHERE b.status <> 'cancelled' AND b.direction = 'export';

INSERT INTO customs_declaration (reference, version, declarant_uscc, trade_mode, transport_mode, status, risk_reasons,
                                 risk_selected, rejection_reason, created_at, submitted_at, decided_at, released_at,
                                 booking_id, declarant_id, station_id)
SELECT 'BSD-' || lpad(b.id::text, 9, '0'), 1, '91110000600037341L', '0110',
       CASE WHEN b.direction = 'import' THEN 'vessel_rail' ELSE 'rail_vessel' END, 'released', '[]',
       b.id %% 10 = 0, '', d.planned_departure - interval '3 days', d.planned_departure - interval '2 days',
       d.planned_departure - interval '2 days' + (1 + b.id %% 30) * interval '1 hour',
       d.planned_departure - interval '2 days' + (1 + b.id %% 30) * interval '1 hour', b.id, b.shipper_id, s.station_id
  FROM bookings_booking b JOIN stations_departure d ON d.id = b.departure_id
  JOIN stations_service s ON s.id = d.service_id
 WHERE b.status <> 'cancelled';

INSERT INTO customs_inspection (requested_by, place, result, findings, recorded_at, declaration_id)
SELECT 'customs', 'Bench yard', 'passed', '', released_at, id FROM customs_declaration WHERE risk_selected;

INSERT INTO customs_goodsline (line_no, hs_code, description, quantity, unit, gross_weight_kg, value, currency,
                               origin_country, un_number, declaration_id)
SELECT 1, (ARRAY['9503008900', '9403609990', '6109100021', '8516797000', '3926909090', '7323930000',
                 '6402999000', '8471300000'])[1 + id %% 8], 'Bench goods', 100, 'pcs', 9000, 20000, 'USD', 'CN', '', id
  FROM customs_declaration;

-- The events: each booking's journey, EVENTS_PER_BOOKING rows a booking, up to the size.
INSERT INTO intermodal_event (event_id, event_type, event_code, classifier, event_datetime, created_at,
                              location_unlocode, facility_kind, facility_code, mode_of_transport, transport_reference,
                              equipment_reference, empty_indicator, booking_reference, document_type,
                              document_reference, reason, details, reported_by_organisation_id)
SELECT gen_random_uuid(), 'EQUIPMENT',
       (ARRAY['AVPU', 'GTOT', 'GTIN', 'LOAD', 'DISC', 'GTIN', 'LOAD'])[1 + g %% 7], 'ACT',
       b.quoted_at + (g %% {EVENTS_PER_BOOKING}) * interval '3 hours',
       b.quoted_at + (g %% {EVENTS_PER_BOOKING}) * interval '3 hours',
       'CNYIU', 'station', 'BST-01', 'RAIL', '', 'BNCU' || lpad((b.id * 4 + 1)::text, 7, '0'), 'LADEN', b.reference,
       '', '', '', '{{}}', (SELECT id FROM intermodal_organisation WHERE code = '{SYNTHETIC}')
  FROM generate_series(0, %(events)s - 1) g
  JOIN bookings_booking b ON b.id = 1 + (g / {EVENTS_PER_BOOKING}) %% (SELECT count(*) FROM bookings_booking);
"""  # noqa: S608 - fixed texts and numbers only

DOMAIN_TABLES = (
    "inbound_returnedempty", "inbound_arrivingcontainer", "intermodal_event", "customs_goodsline",
    "customs_inspection", "customs_declaration", "bookings_emptyrequest",
    "bookings_container", "bookings_bookingline", "bookings_bookingchange", "bookings_booking",
    "stations_vesselcall_destinations", "stations_vesselcall", "stations_departure", "stations_tariff",
    "stations_service", "stations_station", "stations_terminal", "intermodal_outboxmessage", "django_session",
)


@dataclass
class Fill:
    size: int
    reused: bool = False
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)
    rollup: object = None


def rollup(size: int):
    """The nightly rebuild of the figures' rollups (figures/rollups.py), as of yesterday: the days up to the
    day before are rolled up, and yesterday's traffic (the last day of the fill) is read live, as it is in the
    hour after midnight."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from figures.compute import ROLLUPS, figures_refresh

    django_use(schema_name(size))
    print(f"bench: rolling up {schema_name(size)} ...", flush=True)
    refreshed = figures_refresh(full=True, today=timezone.localdate() - timedelta(days=1))
    # A rebuild deletes every rollup row and writes them again: autovacuum clears the dead ones where it runs (not
    # on these machines), and without it each run read the rows of every run before (P7 rose from 2.6 to 3.1 over
    # four runs on one fill).
    with connection.cursor() as cursor:
        for rollup in ROLLUPS:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(rollup.table)}")
    return refreshed


def fill(url: str, schema: str, size: int) -> Fill:
    """Write the year for `size` events unless the schema already holds exactly it."""
    outcome = Fill(size=size)
    connection = common.connect(url, options=f"-c search_path={schema}")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM intermodal_event e JOIN intermodal_organisation o "
                "ON o.id = e.reported_by_organisation_id WHERE o.code = %s", [SYNTHETIC])
            (existing,) = cursor.fetchone()
            # A fill of another version (before the imports: exports only) is made again.
            cursor.execute("SELECT EXISTS (SELECT FROM intermodal_organisation WHERE code = %s AND name = %s)",
                           [SYNTHETIC, FEED_NAME])
            (same_version,) = cursor.fetchone()
            if existing != size or not same_version:
                began = time.perf_counter()
                cursor.execute("SET synchronous_commit = off")
                # The dashboard reads no tracking facts (tracking/facts.py): its events are left out of them, which
                # kept a single INSERT of 10M events from merging them all in one trigger call.
                cursor.execute("SET tracking.facts = 'off'")
                cursor.execute("TRUNCATE " + ", ".join(DOMAIN_TABLES) + " RESTART IDENTITY CASCADE")
                cursor.execute("DELETE FROM intermodal_user")
                cursor.execute("DELETE FROM intermodal_organisation")
                bookings = max(size // EVENTS_PER_BOOKING, 1)
                shippers = max(bookings // BOOKINGS_PER_SHIPPER, 5)
                # Booking ids run from 1 after RESTART IDENTITY; the events name them by id arithmetic.
                cursor.execute(FILL_SQL, {"bookings": bookings, "shippers": shippers, "events": size})
                connection.commit()
                outcome.seconds = time.perf_counter() - began
            else:
                outcome.reused = True
        connection.commit()
        connection.autocommit = True
        with connection.cursor() as cursor:
            if not outcome.reused:
                cursor.execute("VACUUM ANALYZE")
            for table in ("intermodal_event", "bookings_booking", "bookings_container", "bookings_emptyrequest",
                          "inbound_arrivingcontainer", "inbound_returnedempty", "customs_declaration",
                          "stations_departure", "intermodal_organisation"):
                cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a fixed list of names
                outcome.counts[table] = cursor.fetchone()[0]
    finally:
        connection.close()
    return outcome


# --- Measuring -------------------------------------------------------------------------------------------


def users() -> dict:
    """One person per party, made (once) in the current schema."""
    from intermodal.models import Organisation, User

    codes = {"port": "bench-port", "station": "bench-station-op-1", "shipper": "bench-shipper-1",
             "government": "bench-gov"}
    people = {}
    for party, code in codes.items():
        organisation = Organisation.objects.get(code=code)
        people[party], _created = User.objects.get_or_create(
            username=f"bench-{party}", defaults={"organisation": organisation})
    return people


def expected(party: str) -> dict:
    """The figures the rows written must give, counted with plain SQL (not the code under test)."""
    from django.db import connection

    scope = {
        "port": "true",
        "station": "st.code = 'BST-01'",
        "shipper": "o.code = 'bench-shipper-1'",
        "government": "st.province = 'Zhejiang'",
    }[party]
    joins = ("JOIN stations_departure d ON d.id = b.departure_id "
             "JOIN stations_service s ON s.id = d.service_id JOIN stations_station st ON st.id = s.station_id "
             "JOIN intermodal_organisation o ON o.id = b.shipper_id ")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT coalesce(sum(b.teu), 0) FROM bookings_booking b {joins}"  # noqa: S608 - fixed texts
            f"WHERE b.status <> 'cancelled' AND d.planned_departure >= %s AND {scope}",
            [period_start()],
        )
        teu = cursor.fetchone()[0]
        # The exact median wait, which the page reads from histograms (within a bucket: 4.4 %).
        cursor.execute(
            "SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY "  # noqa: S608 - fixed texts
            "EXTRACT(EPOCH FROM r.picked_up_at - r.requested_at) / 3600) "
            f"FROM bookings_emptyrequest r JOIN bookings_booking b ON b.id = r.booking_id {joins}"
            f"WHERE r.picked_up_at IS NOT NULL AND r.requested_at >= %s AND {scope}",
            [period_start()],
        )
        requests, median = cursor.fetchone()
        written = {"teu": teu, "requests": requests, "median_hours": median}
        # Imports: due at the station in the period and available by the promised day (the planned arrival plus
        # the terminal's handling buffer, in the station's calendar); the dwell (discharge -> gate-out) and the
        # time with the consignee (gate-out -> empty return) with the days charged beyond the free days; and the
        # export empties that were returned import boxes.
        local = "(({}) AT TIME ZONE st.timezone)::date"
        promised = local.format("d.planned_arrival + t.handling_buffer_hours * interval '1 hour'")
        imports = (f"FROM bookings_container c JOIN bookings_booking b ON b.id = c.booking_id {joins}"
                   "JOIN stations_terminal t ON t.id = s.terminal_id WHERE b.direction = 'import' "
                   f"AND b.status <> 'cancelled' AND {scope} ")
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {local.format('c.available_at')} <= {promised}) "
            f"{imports} AND d.planned_arrival >= %s", [period_start()])
        written["import_containers"], written["import_on_schedule"] = cursor.fetchone()
        for clock, started, ended, free_days, unit in (
                ("dwell", "c.station_discharge_at", "c.delivered_at", "b.free_days", 3600),
                ("detention", "c.delivered_at", "c.returned_at", str(DEFAULT_DETENTION_FREE_DAYS), 86400)):
            cursor.execute(
                f"SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY "  # noqa: S608 - fixed texts
                f"EXTRACT(EPOCH FROM {ended} - {started}) / {unit}), coalesce(sum(GREATEST("
                f"{local.format(ended)} - {local.format(started)} - {free_days}, 0)), 0) "
                f"{imports} AND {ended} >= %s", [period_start()])
            written[clock] = dict(zip(("containers", "median", "chargeable_days"), cursor.fetchone(), strict=True))
        cursor.execute(
            "SELECT count(*), count(r.id), coalesce(sum(r.port_distance_km), 0) "  # noqa: S608 - fixed texts
            f"FROM bookings_container c JOIN bookings_booking b ON b.id = c.booking_id {joins}"
            "LEFT JOIN inbound_returnedempty r ON r.used_by_id = c.id "
            f"WHERE b.direction = 'export' AND c.empty_out_at >= %s AND {scope}", [period_start()])
        written["match_back"] = dict(zip(("empties", "matched", "km_saved"), cursor.fetchone(), strict=True))
        return written


def period_start():
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from figures.query import default_period

    return datetime.combine(default_period()[0], time.min, tzinfo=ZoneInfo("Asia/Shanghai"))


def sessions(people: dict) -> dict:
    """A signed-in session per party (made as a login makes it, in the schema's own session table), as the
    cookie a browser sends: under both of the settings' names (DEBUG off: "__Host-sessionid")."""
    from django.test import Client

    cookies = {}
    for party, person in people.items():
        client = Client()
        client.force_login(person)
        value = next(iter(client.cookies.values())).value
        cookies[party] = f"sessionid={value}; __Host-sessionid={value}"
    return cookies


def get(port: int, path: str, cookie: str) -> tuple[int, bytes, float]:
    """GET through gunicorn, on a new connection as a browser's page load opens: (status, body, ms)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        began = time.perf_counter()
        connection.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1",
                                                 "Accept-Language": "en"})
        response = connection.getresponse()
        body = response.read()
        return response.status, body, (time.perf_counter() - began) * 1000
    finally:
        connection.close()


def check(port: int, cookies: dict, size: int) -> list[str]:
    """The figures the page draws, through the API of the same computation, against the rows written."""
    import json

    problems = []
    for party in PARTIES:
        status, body, _ms = get(port, "/api/v1/figures/", cookies[party])
        if status != 200:
            problems.append(f"{size} {party}: API HTTP {status}")
            continue
        figures, written = json.loads(body), expected(party)
        if figures["throughput"]["teu"] != written["teu"]:
            problems.append(f"{size} {party}: TEU {figures['throughput']['teu']} != {written['teu']} written")
        wait = figures["empty_wait"]
        if wait["requests"] != written["requests"]:
            problems.append(f"{size} {party}: {wait['requests']} empty requests != {written['requests']} written")
        elif written["median_hours"] is not None and (
                abs(wait["median_hours"] - written["median_hours"]) > 0.044 * written["median_hours"] + 0.05):
            problems.append(f"{size} {party}: median wait {wait['median_hours']} h, exactly "
                            f"{written['median_hours']:.2f} h: beyond its bucket")
        problems += [f"{size} {party}: {problem}" for problem in import_problems(figures, written, party)]
    return problems


def import_problems(figures: dict, written: dict, party: str) -> list[str]:
    """The import figures against the rows written: on-schedule, dwell, detention, days charged, match-back."""
    problems = []
    on_schedule = figures["on_schedule"]["by_direction"]["import"]
    if (on_schedule["containers"], on_schedule["on_schedule"]) != (written["import_containers"],
                                                                   written["import_on_schedule"]):
        problems.append(f"imports on schedule {on_schedule['on_schedule']}/{on_schedule['containers']} != "
                        f"{written['import_on_schedule']}/{written['import_containers']} written")
    if not written["import_containers"]:
        problems.append("no import containers in the period: the fill wrote exports only")
    charges = figures["free_time_charges"]
    for clock, unit in (("dwell", "hours"), ("detention", "days")):
        shown, exact = figures[clock], written[clock]
        if shown["containers"] != exact["containers"]:
            problems.append(f"{clock}: {shown['containers']} containers != {exact['containers']} written")
        elif exact["median"] is not None and (
                abs(shown[f"median_{unit}"] - exact["median"]) > 0.044 * exact["median"] + 0.1):
            problems.append(f"{clock}: median {shown[f'median_{unit}']} {unit}, exactly {exact['median']:.2f}: "
                            "beyond its bucket")
        charged = None if charges is None else charges["demurrage" if clock == "dwell" else "detention"]
        if (charged is None) != (party == "government"):
            problems.append(f"{clock}: charges {'shown to' if charged else 'missing for'} {party}")
        elif charged is not None and charged["chargeable_days"] != exact["chargeable_days"]:
            problems.append(f"{clock}: {charged['chargeable_days']} days charged != {exact['chargeable_days']} "
                            "written")
    shown = {key: figures["match_back"][key] for key in ("empties", "matched", "km_saved")}
    if shown != written["match_back"]:
        problems.append(f"match-back {shown} != {written['match_back']} written")
    return problems


def measure(sizes: list[int], ports: dict, cookies: dict, rounds: int, warmup: int) -> tuple[dict, list[str]]:
    """`warmup` + `rounds` rounds: in each, every party's page at every size, one request at a time."""
    timings = {(size, party): [] for size in sizes for party in PARTIES}
    problems = []
    for n in range(warmup + rounds):
        for size in sizes:
            for party in PARTIES:
                status, body, elapsed = get(ports[size], "/figures/", cookies[size][party])
                if status != 200 or b"<svg" not in body:
                    problems.append(f"{size} {party}: HTTP {status}" + ("" if status != 200 else ", no chart"))
                if n >= warmup:
                    timings[(size, party)].append(elapsed)
    return timings, problems


def explain(size: int) -> list[str]:
    """EXPLAIN ANALYZE of the network's two slowest figure queries (as the dashboard runs them: the rollups up
    to the day before yesterday, the rows of the last day)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from figures import compute as figures
    from figures import query as figure_queries
    from intermodal.access import Actor
    from intermodal.models import Organisation

    django_use(schema_name(size))
    query = figure_queries.figure_query(actor=Actor(organisation=Organisation.objects.get(code="bench-port")))
    with CaptureQueriesContext(connection) as captured:
        figures.figures_compute(query)
    slowest = sorted((q for q in captured.captured_queries if q["sql"].startswith("SELECT")),
                     key=lambda q: -float(q["time"]))[:2]
    lines = []
    for statement in slowest:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"])  # noqa: S608 - captured SQL
            plan = [row[0] for row in cursor.fetchall()]
        lines.append(f"  {statement['sql'][:100]}...: " + plan[-1].strip())
        lines.extend("    " + row for row in plan[:10])
    return lines


def worst_ratio(timings: dict, sizes: list[int]) -> float:
    small, big = sizes
    return max(statistics.median(timings[(big, party)]) / statistics.median(timings[(small, party)])
               for party in PARTIES)


def report(fills: list[Fill], timings: dict, sizes: list[int]) -> tuple[list[str], float]:
    small, big = sizes
    lines = ["", "P7 figures dashboard: GET /figures/ (the last twelve months) through gunicorn, ms; the last "
             "repetition", ""]
    for outcome in fills:
        made = "reused" if outcome.reused else f"written in {outcome.seconds:.1f} s"
        counts = ", ".join(f"{table.split('_', 1)[1]} {n:,}" for table, n in outcome.counts.items())
        lines.append(f"  {outcome.size:>10,} events ({made}): {counts}")
        if outcome.rollup is not None:
            rows = sum(outcome.rollup.rows.values())
            lines.append(f"  {'':>10} rolled up through {outcome.rollup.through_day} in {outcome.rollup.seconds:.1f} s "
                         f"({rows:,} rows); the last day read live")
    lines += ["", f"  {'party':<12}{'small p50':>11}{'p95':>9}{'big p50':>11}{'p95':>9}{'ratio':>8}  goal <= "
                  f"{RATIO_GOAL:g}"]
    worst = 0.0
    for party in PARTIES:
        s, b = timings[(small, party)], timings[(big, party)]
        ratio = statistics.median(b) / statistics.median(s)
        worst = max(worst, ratio)
        lines.append(f"  {party:<12}{statistics.median(s):>11.1f}{percentile(s, 0.95):>9.1f}"
                     f"{statistics.median(b):>11.1f}{percentile(b, 0.95):>9.1f}{ratio:>8.2f}  "
                     f"{'PASS' if ratio <= RATIO_GOAL else 'FAIL'}")
    lines.append(f"\n  worst ratio {worst:.2f} ({'PASS' if worst <= RATIO_GOAL else 'FAIL'}, goal <= {RATIO_GOAL:g})")
    return lines, worst


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=SMALL, help=f"events in the small history (default {SMALL:,})")
    parser.add_argument("--events", type=int, help=f"events in the big history (default {BIG:,} x 10 x --scale)")
    parser.add_argument("--scale", type=float, default=0.1, help="1: Ningbo's year, 10M events (default 0.1: 1M)")
    parser.add_argument("--rounds", type=int, default=15, help="timed requests per party and size (default 15)")
    parser.add_argument("--repeats", type=int, default=5, help="repetitions of the rounds, the median counts (5)")
    parser.add_argument("--workers", type=int, default=common.DEPLOYED_WORKERS,
                        help=f"gunicorn workers of each server ({common.DEPLOYED_WORKERS}, as deployed)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first (default 2)")
    parser.add_argument("--fresh", action="store_true", help="drop both schemas first and fill again")
    parser.add_argument("--no-explain", action="store_true", help="skip the query plans")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    args.events = args.events or round(BIG * 10 * args.scale)
    if args.events <= args.small:
        sys.exit("bench: --events must be larger than --small")
    common.exit_on_sigterm()
    url = common.database_url(NOT_POSTGRES)
    common.ensure_database(url)
    sizes = [args.small, args.events]
    # One secret key for this process, which makes the sessions, and the servers, which read them.
    secret_key = secrets.token_urlsafe(64)
    os.environ["SECRET_KEY"] = secret_key
    common.django_setup(url, common.redis_url(), migrate=False)
    fills = []
    for size in sizes:
        schema = schema_name(size)
        schema_ensure(url, schema, fresh=args.fresh)
        django_use(schema, migrate=True)
        print(f"bench: filling {schema} ...", flush=True)
        fills.append(fill(url, schema, size))
    for outcome in fills:
        outcome.rollup = rollup(outcome.size)
    cookies = {}
    for size in sizes:
        django_use(schema_name(size))
        cookies[size] = sessions(users())
    from django.db import connection

    connection.close()
    run_id = uuid.uuid4().hex[:8]
    ports = {size: common.free_port() for size in sizes}
    while ports[sizes[0]] == ports[sizes[1]]:
        ports[sizes[1]] = common.free_port()
    # The pages name their static files through the manifest that the deployed image's collectstatic writes
    # (Dockerfile); made here with the servers' settings (DEBUG off).
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=common.ROOT,
                   env=common.server_env(url, common.redis_url(), **{**common.as_deployed(), "SECRET_KEY": secret_key}),
                   check=True)
    with contextlib.ExitStack() as servers:
        for size in sizes:
            # As deployed: DEBUG off, gunicorn.conf.py's timeout (30 s), sync workers.
            env = common.server_env(url, common.redis_url(), PGOPTIONS=f"-c search_path={schema_name(size)}",
                                    **{**common.as_deployed(), "SECRET_KEY": secret_key})
            servers.enter_context(common.gunicorn_server(port=ports[size], workers=args.workers, env=env,
                                                         log_path=common.log_file(run_id, f"dashboard-{size}"),
                                                         timeout=None))
        problems = []
        for size in sizes:
            django_use(schema_name(size))
            problems += check(ports[size], cookies[size], size)
        print(f"bench: PostgreSQL {common.postgres_version()}; gunicorn {args.workers} workers a size; measuring "
              f"{args.repeats} x {args.rounds} rounds ...", flush=True)
        worsts = []
        for repeat in range(args.repeats):
            timings, found = measure(sizes, ports, cookies, args.rounds, args.warmup if repeat == 0 else 0)
            problems += found
            worsts.append(worst_ratio(timings, sizes))
            print(f"  repetition {repeat + 1}: worst party's p50 ratio {worsts[-1]:.2f}; load average "
                  f"{os.getloadavg()[0]:.1f}", flush=True)
    lines, _last = report(fills, timings, sizes)
    worst = statistics.median(worsts)
    lines.append(f"  median of {len(worsts)} repetitions' worst ratio: {worst:.2f} "
                 f"({'PASS' if worst <= RATIO_GOAL else 'FAIL'}, goal <= {RATIO_GOAL:g}); each: "
                 + ", ".join(f"{w:.2f}" for w in worsts))
    lines.append(f"  load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if not args.no_explain:
        lines += ["", f"  plans at {args.events:,} events:", *explain(args.events)]
    print("\n".join(lines))
    common.result_line(
        "P7",
        figure=worst,
        goal=f"<= {RATIO_GOAL:g} x at {args.small:,} events",
        passed=worst <= RATIO_GOAL and not problems,
        detail=f"median of {len(worsts)}: worst of 4 parties' p50 ratio, {args.events:,} vs {args.small:,} events, "
               "through gunicorn",
    )
    for problem in problems[:20]:
        print("PROBLEM:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
