"""The references to events lose their database foreign keys before the events table is partitioned by month
(0011): a foreign key must reference a unique key, and a partitioned table's keys include its partition column."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("intermodal", "0009_user_work_station")]

    operations = [
        migrations.AlterField(
            model_name="event", name="supersedes",
            field=models.OneToOneField(blank=True, db_constraint=False, db_index=False, null=True,
                                       on_delete=django.db.models.deletion.PROTECT, related_name="superseded_by",
                                       to="intermodal.event"),
        ),
        migrations.AlterField(
            model_name="outboxmessage", name="event",
            field=models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.PROTECT,
                                       related_name="outbox", to="intermodal.event"),
        ),
    ]
