"""The outbox is a queue: every row is written once, updated once when the relay has planned its deliveries
(processed_at), and deleted by retention a week later. Each update leaves a dead row, and the partial index of
rows still waiting (outbox_unprocessed) keeps an entry for it until the table is vacuumed. By default autovacuum
waits for a fifth of the table to be dead, a week of events: meanwhile the relay's sweep, which looks for rows
waiting from the first, walks every entry left since (P1, docs/PERFORMANCE.md: 20 MB of such entries cost each
claim 1.4 ms). Vacuumed once 10,000 rows are dead, whatever the table's size: at most once a minute under load
(autovacuum's naptime), a page or two of the index to walk."""

from django.db import migrations

SETTINGS = "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000"


class Migration(migrations.Migration):

    dependencies = [
        ("intermodal", "0012_event_fewer_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE intermodal_outboxmessage SET ({SETTINGS})",
            reverse_sql="ALTER TABLE intermodal_outboxmessage RESET (autovacuum_vacuum_scale_factor, "
                        "autovacuum_vacuum_threshold)",
        ),
    ]
