"""Six indexes fewer on every partition of the events table, none that a query needs:

- equipment_reference and booking_reference alone: the indexes with the event's time (event_equipment_time,
  event_booking_time) answer the same look-ups;
- the varchar_pattern_ops copies Django makes beside each indexed text column (`..._like`), for LIKE 'abc%':
  nothing asks the events that way (a search by part of a reference finds it anywhere in the text, which no
  B-tree serves).

Every index of the table is on each monthly partition: PostgreSQL weighs each when it plans a look-up over the
partitions (a DCSA poll plans over all of them: P8, docs/PERFORMANCE.md), and every event written updates each.
Dropping a partitioned index drops its partitions' in the same statement; partitions made later take the
parent's indexes (intermodal_event_partition_ensure, 0011)."""

from django.db import migrations, models

LIKE_INDEXES = {
    "intermodal_event_transport_reference_f692b094_like": "transport_reference",
    "intermodal_event_facility_code_e0d8fcf6_like": "facility_code",
}


class Migration(migrations.Migration):

    dependencies = [
        ("intermodal", "0011_event_partitioned_by_month"),
    ]

    operations = [
        migrations.AlterField(
            model_name="event",
            name="booking_reference",
            field=models.CharField(blank=True, max_length=20),
        ),
        migrations.AlterField(
            model_name="event",
            name="equipment_reference",
            field=models.CharField(blank=True, max_length=11),
        ),
        # The model still indexes these two columns (db_index): only the pattern copies go, which Django's state
        # does not track apart from the field.
        *[migrations.RunSQL(f'DROP INDEX IF EXISTS "{name}"',
                            f'CREATE INDEX IF NOT EXISTS "{name}" ON intermodal_event ("{column}" varchar_pattern_ops)')
          for name, column in LIKE_INDEXES.items()],
    ]
