"""Events take their transaction's id from a trigger instead of a column default: with a default, Django
writes a bulk of events through a VALUES list with DEFAULT, several times slower to build than the arrays
(UNNEST) it uses otherwise (bench P1)."""

from django.db import migrations, models

SET_TXID = """
CREATE OR REPLACE FUNCTION intermodal_event_txid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.txid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS intermodal_event_txid ON intermodal_event;
CREATE TRIGGER intermodal_event_txid BEFORE INSERT ON intermodal_event
    FOR EACH ROW EXECUTE FUNCTION intermodal_event_txid();
"""
DROP_TXID = """
DROP TRIGGER IF EXISTS intermodal_event_txid ON intermodal_event;
DROP FUNCTION IF EXISTS intermodal_event_txid();
"""


class Migration(migrations.Migration):
    dependencies = [("intermodal", "0006_event_feed_order")]

    operations = [
        migrations.AlterField(model_name="event", name="txid",
                              field=models.BigIntegerField(null=True, editable=False)),
        migrations.RunSQL(SET_TXID, DROP_TXID),
    ]
