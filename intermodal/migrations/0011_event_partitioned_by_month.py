"""The events table, partitioned by the month it was recorded in (created_at, UTC months): new rows always go to
the newest partition, and an old month can be detached and archived whole (retention/partitions.py).

- intermodal_event is a partitioned table; its partitions are intermodal_event_pYYYYMM, and
  intermodal_event_default takes a row of a month that has no partition yet (a back-dated bulk load), so that no
  insert ever fails for want of one;
- `intermodal_event_partition_ensure(month)` makes a month's partition: an empty table like the events, filled
  with that month's rows from the default partition (if any), then attached (ATTACH takes a lighter lock than
  CREATE ... PARTITION OF, so writers go on). Beat runs it for the months ahead every day;
- the keys include the month: PRIMARY KEY (id, created_at), UNIQUE (event_id, created_at). The ids still come from
  one sequence, and event ids are random UUIDs made here, so both stay unique; nothing references the table with
  a database foreign key any more (0010);
- every other index, check, foreign key and the txid trigger are made again as they were, on the parent (each
  partition gets its own).

The rows are copied into the new table in this migration's transaction: on a large table, run it in a maintenance
window. It is not reversible."""

from django.db import migrations, models

ENSURE = """
CREATE OR REPLACE FUNCTION intermodal_event_partition_ensure(p_month date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    lower_bound timestamptz := date_trunc('month', p_month)::timestamp AT TIME ZONE 'UTC';
    upper_bound timestamptz := (date_trunc('month', p_month) + interval '1 month')::timestamp AT TIME ZONE 'UTC';
    partition_name text := 'intermodal_event_p' || to_char(p_month, 'YYYYMM');
BEGIN
    IF to_regclass(partition_name) IS NOT NULL THEN
        RETURN partition_name;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE intermodal_event INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                   partition_name);
    EXECUTE format('WITH moved AS (DELETE FROM intermodal_event_default WHERE created_at >= $1 AND created_at < $2 '
                   'RETURNING *) INSERT INTO %I SELECT * FROM moved', partition_name)
        USING lower_bound, upper_bound;
    EXECUTE format('ALTER TABLE intermodal_event ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                   partition_name, lower_bound, upper_bound);
    RETURN partition_name;
END $$;
"""

PARTITION = """
ALTER TABLE intermodal_event RENAME TO intermodal_event_unpartitioned;

CREATE TABLE intermodal_event (
    LIKE intermodal_event_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY INCLUDING STORAGE
) PARTITION BY RANGE (created_at);
CREATE TABLE intermodal_event_default PARTITION OF intermodal_event DEFAULT;

DO $$
DECLARE
    definitions text[];
    foreign_keys text[];
    statement text;
    first_month date;
    month date;
BEGIN
    -- The indexes (but the keys, made again with the month) and foreign keys, as they are.
    SELECT coalesce(array_agg(regexp_replace(pg_get_indexdef(i.indexrelid),
                                             ' ON (\\S+\\.)?intermodal_event_unpartitioned ', ' ON intermodal_event ')),
                    '{}')
      INTO definitions
      FROM pg_index i
     WHERE i.indrelid = 'intermodal_event_unpartitioned'::regclass AND NOT i.indisprimary AND NOT i.indisunique;
    SELECT coalesce(array_agg(format('ALTER TABLE intermodal_event ADD CONSTRAINT %I %s', c.conname,
                                     pg_get_constraintdef(c.oid))), '{}')
      INTO foreign_keys
      FROM pg_constraint c
     WHERE c.conrelid = 'intermodal_event_unpartitioned'::regclass AND c.contype = 'f';

    -- A partition for each month with events, and for this month and the next three.
    SELECT date_trunc('month', least(min(created_at), now()) AT TIME ZONE 'UTC')::date INTO first_month
      FROM intermodal_event_unpartitioned;
    month := first_month;
    WHILE month <= (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months')::date LOOP
        PERFORM intermodal_event_partition_ensure(month);
        month := (month + interval '1 month')::date;
    END LOOP;

    INSERT INTO intermodal_event SELECT * FROM intermodal_event_unpartitioned;
    PERFORM setval(pg_get_serial_sequence('intermodal_event', 'id'),
                   coalesce((SELECT max(id) FROM intermodal_event), 0) + 1, false);
    DROP TABLE intermodal_event_unpartitioned;

    ALTER TABLE intermodal_event ADD CONSTRAINT intermodal_event_pkey PRIMARY KEY (id, created_at);
    ALTER TABLE intermodal_event ADD CONSTRAINT intermodal_event_event_id_key UNIQUE (event_id, created_at);
    FOREACH statement IN ARRAY definitions || foreign_keys LOOP
        EXECUTE statement;
    END LOOP;
END $$;

CREATE TRIGGER intermodal_event_txid BEFORE INSERT ON intermodal_event
    FOR EACH ROW EXECUTE FUNCTION intermodal_event_txid();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("intermodal", "0010_event_references_without_constraints"),
        ("notifications", "0005_delivery_event_without_constraint"),
    ]

    operations = [
        migrations.RunSQL(ENSURE + PARTITION),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(condition=models.Q(("supersedes__isnull", False)), fields=["supersedes"],
                               name="event_supersedes"),
        ),
    ]
