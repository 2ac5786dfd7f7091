"""One search box on every page: a container, booking, declaration, bill of lading, departure or vessel call by
its number, among what the signed-in organisation may see (the same scoped reads as the pages: another
organisation's object is simply not found). One match opens its page; several are listed; none says so."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings.models import BillOfLading
from bookings.selectors import booking_list
from customs.selectors import declaration_list
from guard.text import normalise_reference
from intermodal.access import Actor
from intermodal.errors import NotFound
from intermodal.forms import InputPolicyForm
from intermodal.models import PartyKind
from stations.models import Departure, VesselCall
from tracking.timeline import CONTAINER_NUMBER, track_lookup

SPACES = str.maketrans("", "", " \t")


class SearchForm(InputPolicyForm, forms.Form):
    q = forms.CharField(label=gettext_lazy("Number"), max_length=40,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}))


@dataclass(frozen=True)
class Found:
    kind: str
    label: str
    url: str


def search_for(actor: Actor, text: str) -> list[Found]:
    key = normalise_reference(text).translate(SPACES).upper()
    found: list[Found] = []
    if CONTAINER_NUMBER.match(key):
        if _tracked(actor, key):
            found.append(Found("container", _("Container %(number)s") % {"number": key}, _track_url(key)))
        return found
    booking = booking_list(actor=actor).filter(reference=key).first()
    if booking is not None:
        found.append(Found("booking", _("Booking %(ref)s") % {"ref": key},
                           reverse("bookings:detail", args=[booking.reference])))
    elif _tracked(actor, key):  # a booking its page does not show this party, but tracking does
        found.append(Found("booking", _("Booking %(ref)s") % {"ref": key}, _track_url(key)))
    declaration = declaration_list(actor=actor).filter(reference=key).first()
    if declaration is not None:
        found.append(Found("declaration", _("Declaration %(ref)s") % {"ref": key},
                           reverse("customs:detail", args=[declaration.reference])))
    bill = (BillOfLading.objects.filter(number=key, booking__in=booking_list(actor=actor).values("pk"))
            .select_related("booking").first())
    if bill is not None:
        found.append(Found("bill_of_lading", _("Bill of lading %(number)s") % {"number": key},
                           reverse("bookings:detail", args=[bill.booking.reference]) + "#bill-of-lading"))
    found += _transport(actor, key)
    return found


def _tracked(actor: Actor, key: str) -> bool:
    try:
        track_lookup(actor=actor, key=key)
    except NotFound:
        return False
    return True


def _track_url(key: str) -> str:
    return f"{reverse('operations:track')}?{urlencode({'q': key})}"


def _transport(actor: Actor, key: str) -> list[Found]:
    """A departure or a vessel call, for the parties whose pages work them."""
    kind, organisation = actor.kind, actor.organisation
    admin = kind == PartyKind.PLATFORM_ADMIN
    found = []
    departures = Departure.objects.filter(reference=key).select_related("service__station")
    if kind == PartyKind.RAILWAY or admin:
        for departure in departures if admin else departures.filter(service__operator=organisation):
            found.append(Found("departure", _("Train %(ref)s") % {"ref": key},
                               reverse("operations:manifest", args=[departure.reference])))
    elif kind == PartyKind.STATION_OPERATOR:
        for departure in departures.filter(service__station__operator=organisation):
            found.append(Found("departure", _("Train %(ref)s") % {"ref": key},
                               f"{reverse('operations:station-board')}?station={departure.service.station.code}"))
    if kind == PartyKind.PORT or admin:
        calls = VesselCall.objects.filter(reference=key)
        for call in calls if admin else calls.filter(terminal__operator=organisation):
            found.append(Found("vessel_call", _("%(vessel)s %(voyage)s") % {"vessel": call.vessel_name,
                                                                             "voyage": call.voyage},
                               reverse("operations:vessel", args=[call.reference])))
    return found


@login_required
def search(request):
    actor = Actor.from_request(request)
    form = SearchForm(request.GET or None)
    found: list[Found] = []
    if form.is_valid():
        found = search_for(actor, form.cleaned_data["q"])
        if len(found) == 1:
            return redirect(found[0].url)
    status = 200 if found or not form.is_bound else 404 if form.is_valid() else 400
    return render(request, "worklists/search.html", {"form": form, "found": found}, status=status)
