"""The demo history that `make run` writes for the figures: real figures, and a second run changes nothing."""

import pytest
from django.core.management import call_command

from bookings.figures import figure_query, figures_compute
from bookings.models import Booking
from customs.demo_history import demo_history_create
from intermodal.access import Actor
from intermodal.models import Organisation

pytestmark = pytest.mark.django_db


def test_demo_history_gives_the_dashboard_figures(db):
    call_command("seed_demo", "--quiet", verbosity=0)

    made = demo_history_create(days=30)

    assert made > 0
    figures = figures_compute(figure_query(actor=Actor(organisation=Organisation.objects.get(code="demo-port"))))
    assert figures["on_schedule"]["containers"] > 0 and 80 <= figures["on_schedule"]["rate"] <= 100
    assert figures["empty_wait"]["median_hours"] > 0 and figures["clearance"]["released"] == made
    assert figures["throughput"]["teu"] > 0 and figures["cost"]["saving"] > 0 and figures["cargo_mix"]
    assert demo_history_create(days=30) == 0
    assert Booking.objects.filter(reference__contains="-H").count() == made
