"""The tracking read model (tracking/facts.py): the facts of each container, booking, departure and vessel call,
kept by the database as events are written, and filled for the events written before.

A fact is the first report (by time, then id) of one kind of event - its code, classifier, facility kind and
transport - among a subject's events no correction replaced, with the time of its last report of that kind:
`{"LOAD|ACT||TRAIN-1": [first µs since 1970, its id]}`, `[first, id, last]` when the last report came later,
`[first, id, last, 1]` when the first report is itself a correction. Only the codes a timeline reads are kept
(CODES, tracking.facts.TOLD_BY). A subject's events are those its timeline reads (tracking/timeline.py):
- a container: its booking's events of the box, and for an import the port's discharge of the box from the
  booking's vessel, whichever booking that names (often none: the box was discharged before it was booked);
- a booking: its events that name no box;
- a departure or a vessel call: its TRANSPORT events.

Events are only ever added. An added event is merged into its subjects' facts by one statement a kind of subject
for the whole INSERT (a statement trigger reading the inserted rows), the subjects' rows locked in id order; a
correction makes its subjects' facts again from their events, as does a container added after its events (an
import booked after its discharge). `SET tracking.facts = 'off'` leaves a session's inserts out (a bulk load, which
then calls tracking_facts_rebuild(NULL, NULL, NULL, NULL), or a benchmark's raw baseline).
"""

from django.db import migrations

# The aggregate of a subject's facts over its events `e`.
FACTS = ("tracking_facts_agg(tracking_fact_kind(e.event_code, e.classifier, e.facility_kind, e.transport_reference), "
         "e.event_datetime, e.id, e.supersedes_id IS NOT NULL)")
# The event codes a timeline reads (tracking/timeline.py); tests/tracking/test_facts.py holds them equal to
# tracking.facts.TOLD_BY.
CODES = ("ARRI", "AVPU", "DEPA", "DISC", "GTIN", "GTOT", "LOAD", "MISS", "REQS")

# A booking's, departure's or vessel call's facts (the events naming it in REF that TOLD says are its own) made again
# from the events, for the ids in `ids`.
SUBJECT_REBUILD = r"""    n := 0;
    IF IDS IS NULL OR cardinality(IDS) > 0 THEN
        EXECUTE $$
        WITH target AS (SELECT x.id, x.reference FROM TABLE x WHERE $1 IS NULL OR x.id = ANY($1)),
        made AS (
            SELECT t.id AS subject, FACTS AS facts
            FROM target t JOIN intermodal_event e ON e.REF = t.reference AND TOLD
            WHERE NOT EXISTS (SELECT 1 FROM intermodal_event s WHERE s.supersedes_id = e.id)
            GROUP BY t.id
        )
        UPDATE TABLE x SET facts = made.facts FROM target LEFT JOIN made ON made.subject = target.id
        WHERE x.id = target.id AND x.facts IS DISTINCT FROM made.facts $$ USING IDS;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    changed := changed || n;"""

# The inserted events merged into the facts of the booking, departure or vessel call they name in REF (TOLD: those
# that are its own).
SUBJECT_MERGE = r"""    WITH made AS (
        SELECT e.REF AS reference, FACTS AS facts FROM new_events e
        WHERE TOLD AND e.REF <> '' GROUP BY e.REF
    ), locked AS (
        SELECT x.id, made.facts FROM TABLE x JOIN made ON made.reference = x.reference ORDER BY x.id FOR UPDATE OF x
    )
    UPDATE TABLE x SET facts = tracking_facts_merge(x.facts, locked.facts) FROM locked WHERE x.id = locked.id;"""

# Whose events are a subject's: a booking's name it and no container; a departure's or vessel call's are TRANSPORT.
_BOOKING = ("bookings_booking", "booking_reference", "e.equipment_reference = ''")
_DEPARTURE = ("stations_departure", "transport_reference", "e.event_type = 'TRANSPORT'")
_CALL = ("stations_vesselcall", "transport_reference", "e.event_type = 'TRANSPORT'")


def _subject(template: str, subject: tuple[str, str, str], ids: str = "") -> str:
    table, ref, told = subject
    return (template.replace("TABLE", table).replace("IDS", ids).replace("FACTS", FACTS).replace("REF", ref)
            .replace("TOLD", told))


FUNCTIONS = r"""
CREATE FUNCTION tracking_us(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;

-- A fact's value: its first report's time and id, the last one's time if later, 1 if the first is a correction.
CREATE FUNCTION tracking_fact(first bigint, id bigint, last bigint, corrected boolean) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE WHEN corrected THEN jsonb_build_array(first, id, last, 1)
            WHEN last <> first THEN jsonb_build_array(first, id, last)
            ELSE jsonb_build_array(first, id) END
$$;

-- One event into a subject's facts (the aggregate's step): the first report of the kind, and the last one's time.
CREATE FUNCTION tracking_facts_step(state jsonb, kind text, at timestamptz, id bigint, corrected boolean)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    us bigint;
    known jsonb;
    first bigint;
    last bigint;
BEGIN
    IF split_part(kind, '|', 1) <> ALL ('%(codes)s'::text[]) THEN
        RETURN state;
    END IF;
    us := tracking_us(at);
    known := state -> kind;
    IF known IS NULL THEN
        RETURN state || jsonb_build_object(kind, tracking_fact(us, id, us, corrected));
    END IF;
    first := (known ->> 0)::bigint;
    last := coalesce((known ->> 2)::bigint, first);
    IF (us, id) < (first, (known ->> 1)::bigint) THEN
        RETURN state || jsonb_build_object(kind, tracking_fact(us, id, greatest(us, last), corrected));
    ELSIF us > last THEN
        RETURN state || jsonb_build_object(
            kind, tracking_fact(first, (known ->> 1)::bigint, us, jsonb_array_length(known) > 3));
    END IF;
    RETURN state;
END $$;

CREATE AGGREGATE tracking_facts_agg(text, timestamptz, bigint, boolean) (
    SFUNC = tracking_facts_step, STYPE = jsonb, INITCOND = '{}'
);

-- Two values of one kind of fact as one: the earlier first report, the later last one.
CREATE FUNCTION tracking_fact_merged(x jsonb, y jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT tracking_fact((f ->> 0)::bigint, (f ->> 1)::bigint,
                     greatest(coalesce((x ->> 2)::bigint, (x ->> 0)::bigint), coalesce((y ->> 2)::bigint, (y ->> 0)::bigint)),
                     jsonb_array_length(f) > 3)
FROM (SELECT CASE WHEN ((y ->> 0)::bigint, (y ->> 1)::bigint) < ((x ->> 0)::bigint, (x ->> 1)::bigint)
                  THEN y ELSE x END AS f) AS earlier
$$;

-- Facts made from more events (b) added to a subject's facts (a).
CREATE FUNCTION tracking_facts_merge(a jsonb, b jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT coalesce(a, '{}') || coalesce((
    SELECT jsonb_object_agg(n.key, CASE WHEN o.value IS NULL THEN n.value ELSE tracking_fact_merged(o.value, n.value) END)
    FROM jsonb_each(b) AS n LEFT JOIN jsonb_each(a) AS o ON o.key = n.key), '{}')
$$;

CREATE FUNCTION tracking_fact_kind(code text, classifier text, facility_kind text, transport text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT code || '|' || classifier || '|' || facility_kind || '|' || transport $$;

-- The subjects' facts made again from their events (NULL: every subject of that kind); how many rows of each kind
-- changed (containers, bookings, departures, vessel calls). Always planned for the ids given (EXECUTE): a
-- correction's few, or a whole table's.
CREATE FUNCTION tracking_facts_rebuild(containers bigint[], bookings bigint[], departures bigint[],
                                       calls bigint[]) RETURNS bigint[] LANGUAGE plpgsql AS $fn$
DECLARE
    changed bigint[] := '{}';
    n bigint;
BEGIN
    n := 0;
    IF containers IS NULL OR cardinality(containers) > 0 THEN
        EXECUTE $$
        WITH target AS (
            SELECT c.id, c.number, b.reference, b.direction, v.reference AS vessel
            FROM bookings_container c JOIN bookings_booking b ON b.id = c.booking_id
            JOIN stations_vesselcall v ON v.id = b.vessel_call_id
            WHERE $1 IS NULL OR c.id = ANY($1)
        ), told AS (
            SELECT t.id AS subject, e.* FROM target t JOIN intermodal_event e
                ON e.booking_reference = t.reference AND e.equipment_reference = t.number
            UNION ALL
            SELECT t.id, e.* FROM target t JOIN intermodal_event e
                ON e.equipment_reference = t.number AND e.transport_reference = t.vessel
                   AND e.event_type = 'EQUIPMENT' AND e.event_code = 'DISC' AND e.booking_reference <> t.reference
            WHERE t.direction = 'import'
        ), made AS (
            SELECT e.subject, %(facts)s AS facts FROM told e
            WHERE NOT EXISTS (SELECT 1 FROM intermodal_event s WHERE s.supersedes_id = e.id)
            GROUP BY e.subject
        )
        UPDATE bookings_container c SET facts = made.facts FROM target LEFT JOIN made ON made.subject = target.id
        WHERE c.id = target.id AND c.facts IS DISTINCT FROM made.facts $$ USING containers;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    changed := changed || n;

%(bookings_rebuild)s

%(departures_rebuild)s
%(calls_rebuild)s
    RETURN changed;
END $fn$;

-- The facts made again of the subjects that events told, given as their columns side by side (a correction's, or
-- events deleted by a benchmark's clean-up); how many rows of each kind changed.
CREATE FUNCTION tracking_facts_rebuild_told(bookings text[], equipment text[], transports text[], types text[],
                                            codes text[]) RETURNS bigint[] LANGUAGE plpgsql AS $fn$
BEGIN
    RETURN tracking_facts_rebuild(
        ARRAY(SELECT c.id FROM unnest(bookings, equipment) AS e(booking_reference, equipment_reference)
              JOIN bookings_booking b ON b.reference = e.booking_reference
              JOIN bookings_container c ON c.booking_id = b.id AND c.number = e.equipment_reference
              UNION
              SELECT c.id FROM unnest(equipment, transports, types, codes)
                  AS e(equipment_reference, transport_reference, event_type, event_code)
              JOIN bookings_container c ON c.number = e.equipment_reference
              JOIN bookings_booking b ON b.id = c.booking_id JOIN stations_vesselcall v ON v.id = b.vessel_call_id
              WHERE b.direction = 'import' AND v.reference = e.transport_reference AND e.event_type = 'EQUIPMENT'
                AND e.event_code = 'DISC'),
        ARRAY(SELECT DISTINCT b.id FROM unnest(bookings, equipment) AS e(booking_reference, equipment_reference)
              JOIN bookings_booking b ON b.reference = e.booking_reference WHERE e.equipment_reference = ''),
        ARRAY(SELECT DISTINCT d.id FROM unnest(transports, types) AS e(transport_reference, event_type)
              JOIN stations_departure d ON d.reference = e.transport_reference WHERE e.event_type = 'TRANSPORT'),
        ARRAY(SELECT DISTINCT v.id FROM unnest(transports, types) AS e(transport_reference, event_type)
              JOIN stations_vesselcall v ON v.reference = e.transport_reference WHERE e.event_type = 'TRANSPORT'));
END $fn$;

-- The events just inserted (new_events) merged into their subjects' facts, each kind of subject by one statement
-- with its rows locked in id order; a correction's subjects made again from their events.
CREATE FUNCTION tracking_facts_on_events() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('tracking.facts', true) = 'off' THEN
        RETURN NULL;
    END IF;
    WITH told AS (
        SELECT c.id AS subject, e.* FROM new_events e JOIN bookings_booking b ON b.reference = e.booking_reference
        JOIN bookings_container c ON c.booking_id = b.id AND c.number = e.equipment_reference
        WHERE e.equipment_reference <> ''
        UNION ALL
        SELECT c.id, e.* FROM new_events e JOIN bookings_container c ON c.number = e.equipment_reference
        JOIN bookings_booking b ON b.id = c.booking_id JOIN stations_vesselcall v ON v.id = b.vessel_call_id
        WHERE b.direction = 'import' AND v.reference = e.transport_reference AND e.event_type = 'EQUIPMENT'
          AND e.event_code = 'DISC' AND e.booking_reference <> b.reference
    ), made AS (
        SELECT e.subject, %(facts)s AS facts FROM told e GROUP BY e.subject
    ), locked AS (
        SELECT c.id, made.facts FROM bookings_container c JOIN made ON made.subject = c.id ORDER BY c.id FOR UPDATE OF c
    )
    UPDATE bookings_container c SET facts = tracking_facts_merge(c.facts, locked.facts) FROM locked
    WHERE c.id = locked.id;

%(bookings_merge)s

%(departures_merge)s
%(calls_merge)s
    IF EXISTS (SELECT 1 FROM new_events WHERE supersedes_id IS NOT NULL) THEN
        PERFORM tracking_facts_rebuild_told(array_agg(e.booking_reference), array_agg(e.equipment_reference),
                                            array_agg(e.transport_reference), array_agg(e.event_type),
                                            array_agg(e.event_code))
        FROM new_events e WHERE e.supersedes_id IS NOT NULL;
    END IF;
    RETURN NULL;
END $fn$;

CREATE TRIGGER tracking_facts AFTER INSERT ON intermodal_event REFERENCING NEW TABLE AS new_events
FOR EACH STATEMENT EXECUTE FUNCTION tracking_facts_on_events();

-- A container added after events of it (an import booked after the port discharged it) starts with their facts.
CREATE FUNCTION tracking_facts_on_containers() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF current_setting('tracking.facts', true) = 'off' THEN
        RETURN NULL;
    END IF;
    PERFORM tracking_facts_rebuild(ARRAY(SELECT id FROM new_containers), '{}', '{}', '{}');
    RETURN NULL;
END $fn$;

CREATE TRIGGER tracking_facts AFTER INSERT ON bookings_container REFERENCING NEW TABLE AS new_containers
FOR EACH STATEMENT EXECUTE FUNCTION tracking_facts_on_containers();
""" % {
    "facts": FACTS, "codes": "{" + ",".join(CODES) + "}",
    "bookings_rebuild": _subject(SUBJECT_REBUILD, _BOOKING, "bookings"),
    "departures_rebuild": _subject(SUBJECT_REBUILD, _DEPARTURE, "departures"),
    "calls_rebuild": _subject(SUBJECT_REBUILD, _CALL, "calls"),
    "bookings_merge": _subject(SUBJECT_MERGE, _BOOKING),
    "departures_merge": _subject(SUBJECT_MERGE, _DEPARTURE),
    "calls_merge": _subject(SUBJECT_MERGE, _CALL),
}

DROP = r"""
DROP TRIGGER IF EXISTS tracking_facts ON bookings_container;
DROP FUNCTION IF EXISTS tracking_facts_on_containers();
DROP TRIGGER IF EXISTS tracking_facts ON intermodal_event;
DROP FUNCTION IF EXISTS tracking_facts_on_events();
DROP FUNCTION IF EXISTS tracking_facts_rebuild_told(text[], text[], text[], text[], text[]);
DROP FUNCTION IF EXISTS tracking_facts_rebuild(bigint[], bigint[], bigint[], bigint[]);
DROP FUNCTION IF EXISTS tracking_fact_kind(text, text, text, text);
DROP FUNCTION IF EXISTS tracking_facts_merge(jsonb, jsonb);
DROP FUNCTION IF EXISTS tracking_fact_merged(jsonb, jsonb);
DROP AGGREGATE IF EXISTS tracking_facts_agg(text, timestamptz, bigint, boolean);
DROP FUNCTION IF EXISTS tracking_facts_step(jsonb, text, timestamptz, bigint, boolean);
DROP FUNCTION IF EXISTS tracking_fact(bigint, bigint, bigint, boolean);
DROP FUNCTION IF EXISTS tracking_us(timestamptz);
"""


class Migration(migrations.Migration):

    dependencies = [
        ("bookings", "0010_tracking_facts"),
        ("stations", "0011_tracking_facts"),
        ("intermodal", "0013_outbox_vacuumed_often"),
    ]

    operations = [
        migrations.RunSQL(FUNCTIONS, DROP),
        migrations.RunSQL("SELECT tracking_facts_rebuild(NULL, NULL, NULL, NULL)", migrations.RunSQL.noop),
    ]
