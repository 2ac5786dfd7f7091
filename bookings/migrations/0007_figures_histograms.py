"""The figures' rollups gain month rows (`span`), and the empty-container waits become histograms: a row per
day, service and duration bucket instead of one per request. The old rows cannot be turned into buckets here
(the histogram needs the rows' durations, which the next refresh reads again), so they are removed and the
rollups marked empty: the figures read the rows until the next refresh (hourly) rebuilds everything."""

from django.db import migrations, models

SPAN = models.CharField(choices=[("day", "day"), ("month", "month")], default="day", max_length=5)


class Migration(migrations.Migration):

    dependencies = [
        ("bookings", "0006_figures_rollups"),
    ]

    operations = [
        migrations.RunSQL(
            "DELETE FROM bookings_emptywait; DELETE FROM bookings_containerday; DELETE FROM bookings_bookingday; "
            "UPDATE bookings_figurerollup SET through_day = NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.AddField(model_name="containerday", name="span", field=SPAN),
        migrations.AddField(model_name="bookingday", name="span", field=SPAN),
        migrations.AddField(model_name="emptywait", name="span", field=SPAN),
        migrations.RemoveField(model_name="emptywait", name="wait_seconds"),
        migrations.AddField(model_name="emptywait", name="bucket", field=models.SmallIntegerField(default=0),
                            preserve_default=False),
        migrations.AddField(model_name="emptywait", name="requests", field=models.PositiveIntegerField(default=0)),
        migrations.AddField(model_name="emptywait", name="total_seconds", field=models.FloatField(default=0)),
        migrations.AddField(model_name="emptywait", name="shortest_seconds", field=models.FloatField(default=0),
                            preserve_default=False),
        migrations.AddField(model_name="emptywait", name="longest_seconds", field=models.FloatField(default=0),
                            preserve_default=False),
    ]
