"""Leave room on the containers' pages so their updates can be HOT (heap-only tuples), as departures do
(stations 0003).

A container's row is updated at each step of its journey: its status and last event, and since tracking 0001 the
facts its events tell (a second update of the row in the same transaction). It carries eight indexes, none on
those columns. With full pages each new row version goes to another page and into all eight indexes; with room
left on the page, into none. Rows written from now on get the room; rows already written get it when the table is
rewritten (VACUUM FULL, pg_repack).
"""

from django.db import migrations

FILLFACTOR = 70


def set_fillfactor(apps, schema_editor, value=FILLFACTOR):
    table = apps.get_model("bookings", "Container")._meta.db_table
    schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET (fillfactor = {int(value)})")


def reset_fillfactor(apps, schema_editor):
    set_fillfactor(apps, schema_editor, value=100)


class Migration(migrations.Migration):
    dependencies = [("bookings", "0010_tracking_facts")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
