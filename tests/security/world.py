"""Two organisations' worlds for the permission matrix: every party kind, its places, a booking on its way, a
declaration, events and API keys. A caller always belongs to world "own"; world "other" holds the foreign
objects, which must be a 404 for everyone but the platform admin."""

import uuid
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.utils import timezone

from bkg.models import BookingRequest, RequestStatus
from bookings import services as booking_services
from bookings import services as bookings_services
from bookings.models import BookingImport
from customs import services as customs_services
from documents.bill_of_lading import bill_of_lading_issue, bill_of_lading_request
from inbound.models import ArrivingContainer
from intermodal.access import Actor, api_key_create, api_key_revoke
from intermodal.models import DEFAULT_SCOPES, Event, PartyKind
from journey import services as journey
from notifications.models import Delivery, Notification, NotificationKind, SubscriptionFormat
from notifications.services import subscription_create
from stations.models import Departure, Location
from stations.services import departures_generate
from tests import factories

K = PartyKind
BILL = {"shipper_name": "Own Shipper", "shipper_address": "1 Market Rd, Yiwu", "consignee_name": "Buyer BV",
        "consignee_address": "2 Haven, Rotterdam", "notify_name": "Buyer BV", "notify_address": "2 Haven, Rotterdam",
        "goods_description": "Toys", "marks_and_numbers": "N/M", "freight_terms": "prepaid"}


def _world(tag: str, n: int, container: str, imo: str, admin) -> SimpleNamespace:
    orgs = {kind: factories.organisation(kind, code=f"{tag}-{kind.replace('_', '-')}", uscc=factories.VALID_USCC
                                         if kind == K.ENTERPRISE else "")
            for kind in K.values if kind != K.PLATFORM_ADMIN}
    orgs[K.PLATFORM_ADMIN] = admin
    users = {kind: factories.user(org, username=f"{tag}-{kind}") for kind, org in orgs.items()
             if kind != K.PLATFORM_ADMIN or tag == "own"}
    keys = {kind: api_key_create(organisation=org, name=f"{tag} key") for kind, org in orgs.items()}
    spare_keys = {kind: api_key_create(organisation=org, name=f"{tag} spare")[0] for kind, org in orgs.items()}
    station = factories.station(f"ST{n}", operator=orgs[K.STATION_OPERATOR], unlocode="CNYIU",
                                issues_bills_of_lading=True)
    station.inspection_offices.add(orgs[K.CUSTOMS], orgs[K.BORDER_INSPECTION])
    terminal = factories.terminal(f"TERM{n}", operator=orgs[K.PORT])
    service = factories.service(station, terminal, orgs[K.RAILWAY], code=f"SVC{n}")
    return SimpleNamespace(tag=tag, orgs=orgs, users=users, keys=keys, spare_keys=spare_keys, station=station,
                           terminal=terminal, service=service, container_number=container, imo=imo)


def _journey(world, today) -> None:
    call = factories.vessel_call(world.terminal, etd=factories.shanghai(today + timedelta(days=5), 18), imo=world.imo)
    departure = (Departure.objects.filter(service=world.service, planned_arrival__lte=call.latest_arrival_for())
                 .order_by("-planned_departure").first())
    shipper = Actor(organisation=world.orgs[K.ENTERPRISE], user=world.users[K.ENTERPRISE])
    booking = booking_services.booking_create(
        actor=shipper, departure=departure, vessel_call=call, destination=Location.objects.get(unlocode="NLRTM"),
        lines={"42G1": 1}, commodity="Toys", cargo_weight_kg=Decimal("18000"), confirm=True,
    )
    empty_request = bookings_services.empty_request_create(actor=shipper, booking=booking, size_type="42G1", quantity=1)
    booking_services.container_assign(actor=shipper, booking=booking, number=world.container_number,
                                      size_type="42G1")
    station_staff = Actor(organisation=world.orgs[K.STATION_OPERATOR])
    journey.laden_gate_in(actor=station_staff, number=world.container_number, seal_number="SEAL1",
                          vgm_kg=Decimal("20000"), vgm_method=1, vgm_signatory="A. Clerk")
    declaration = customs_services.declaration_create(
        actor=shipper, booking=booking, trade_mode="0110", transport_mode="rail_vessel",
        lines=[factories.goods_line()], containers=[world.container_number], declarant_uscc=factories.VALID_USCC,
    )
    customs_services.declaration_submit(actor=shipper, declaration=declaration)
    for office in (K.CUSTOMS, K.BORDER_INSPECTION):
        customs_services.declaration_decide(actor=Actor(organisation=world.orgs[office], user=world.users[office]),
                                            declaration=declaration, kind="clear", reason="In order")
    # The B/L: asked for by the shipper, issued by the station (the declaration is released).
    bill_of_lading_request(actor=shipper, booking=booking, **BILL)
    bill = bill_of_lading_issue(actor=station_staff, booking=booking, verify_url=lambda token: f"/bl/{token}/")
    booking_import = BookingImport.objects.create(organisation=world.orgs[K.ENTERPRISE], file_name="bookings.csv",
                                                  content="", created_by=world.users[K.ENTERPRISE])
    # A second booking with no declaration yet: what the "declare" page names.
    undeclared = booking_services.booking_create(
        actor=shipper, departure=departure, vessel_call=call, destination=Location.objects.get(unlocode="NLRTM"),
        lines={"22G1": 1}, commodity="Shoes", cargo_weight_kg=Decimal("9000"), confirm=True,
    )
    event = Event.objects.filter(equipment_reference=world.container_number, event_code="GTIN").get()
    # Webhooks and notifications (issue 6): each organisation's subscriptions (ours and DCSA's) and a delivery,
    # each person's notification.
    subscriptions, dcsa_subscriptions, deliveries, notifications = {}, {}, {}, {}
    for kind, org in world.orgs.items():
        if kind == K.LOCAL_GOVERNMENT:
            continue  # it sees aggregates only: no webhooks
        actor = Actor(organisation=org)
        subscription = subscription_create(actor=actor, url=f"https://hooks.example/{world.tag}/{kind}",
                                           event_kinds=["equipment.gtin"]).subscription
        subscriptions[kind] = subscription
        dcsa_subscriptions[kind] = subscription_create(
            actor=actor, url=f"https://hooks.example/{world.tag}/{kind}/dcsa", event_kinds=["equipment.gtin"],
            format=SubscriptionFormat.DCSA).subscription
        deliveries[kind] = Delivery.objects.create(webhook_id=f"msg_{uuid.uuid4().hex}", subscription=subscription,
                                                   topic="webhook.test", body="{}", is_test=True)
    for kind, person in world.users.items():
        notifications[kind] = Notification.objects.create(user=person, kind=NotificationKind.BOOKING_CONFIRMED,
                                                          dedupe_key=f"{world.tag}-{kind}")
    world.__dict__.update(subscriptions=subscriptions, dcsa_subscriptions=dcsa_subscriptions, deliveries=deliveries,
                          notifications=notifications)
    # The booking as a DCSA booking request would have made it.
    dcsa_booking = BookingRequest.objects.create(
        reference=f"CBR-{world.tag.upper()}", shipper=booking.shipper, booking=booking,
        status=RequestStatus.CONFIRMED, payload={"receiptTypeAtOrigin": "CY"})
    world.__dict__.update(dcsa_booking=dcsa_booking)
    # An import container announced on the call for the enterprise, held for freight: what the port releases.
    ArrivingContainer.objects.create(
        vessel_call=call, number=world.container_number, size_type="42G1", gross_weight_kg=Decimal("20000"),
        bl_number=f"BL{world.tag.upper()}", consignee=world.orgs[K.ENTERPRISE], announced_by=world.orgs[K.PORT],
        port_of_loading=Location.objects.get(unlocode="NLRTM"), freight_hold=True)
    world.__dict__.update(call=call, departure=departure, booking=booking, empty_request=empty_request,
                          declaration=declaration, undeclared=undeclared, event=event, bill=bill,
                          booking_import=booking_import)


def build() -> SimpleNamespace:
    admin = factories.organisation(K.PLATFORM_ADMIN, code="platform")
    own = _world("own", 1, "CSQU3054383", "9811000", admin)
    other = _world("other", 2, "TCNU7200794", "9321483", admin)
    today = timezone.localdate()
    departures_generate(days=10, start=today)
    _journey(own, today)
    _journey(other, today)
    revoked, revoked_raw = api_key_create(organisation=own.orgs[K.ENTERPRISE], name="revoked",
                                          scopes=DEFAULT_SCOPES[K.ENTERPRISE])
    api_key_revoke(key=revoked)
    return SimpleNamespace(own=own, other=other, revoked_raw=revoked_raw)


def kwargs_for(world: SimpleNamespace, subject: str | None, caller_kind: str | None, url_kwargs: set[str]) -> dict:
    """The URL arguments naming `subject` in `world` (for a caller of `caller_kind`, where that matters)."""
    if subject is None:
        return {}
    owner = caller_kind if caller_kind in world.subscriptions else K.ENTERPRISE
    values = {
        "booking": {"reference": world.booking.reference},
        "booking_to_declare": {"booking_reference": world.undeclared.reference},
        "booking_container": {"reference": world.booking.reference, "number": world.container_number,
                              "direction": "in"},  # gated in laden: its EIR exists
        "container": {"number": world.container_number, "key": world.container_number},
        "empty_request": {"pk": world.empty_request.pk},
        "declaration": {"reference": world.declaration.reference},
        "api_key": {"prefix": world.spare_keys[caller_kind or K.ENTERPRISE].prefix},
        "event": {"eventID": str(world.event.event_id), "event_id": str(world.event.event_id)},
        "departure": {"reference": world.departure.reference},
        "departure_manifest": {"reference": world.departure.reference, "file_format": "pdf"},
        "station_departure": {"reference": world.departure.reference},
        "published_departure": {"reference": world.departure.reference},
        "vessel_call": {"reference": world.call.reference},
        "published_vessel_call": {"reference": world.call.reference},
        "vessel_call_container": {"reference": world.call.reference, "number": world.container_number},
        "station": {"code": world.station.code},
        "booking_import": {"pk": world.booking_import.pk},
        "subscription": {"subscription_id": world.subscriptions[owner].subscription_id},
        "dcsa_subscription": {
            "subscriptionID": str(world.dcsa_subscriptions[owner].subscription_id)},
        "delivery": {"webhook_id": world.deliveries[owner].webhook_id},
        "notification": {"pk": world.notifications.get(caller_kind, world.notifications[K.ENTERPRISE]).pk},
        "bill_token": {"token": world.bill.verification_token},
        "export": {"kind": "bookings", "file_format": "csv"},
        "service": {"code": world.service.code},
        "dcsa_booking": {"bookingReference": world.dcsa_booking.reference},
    }[subject]
    return {name: value for name, value in values.items() if name in url_kwargs}


def body_for(view_name: str, method: str, world: SimpleNamespace, kind: str | None) -> dict | None:
    """A request body that a permitted caller could send: so a refusal is about who calls, not about the input."""
    future = (timezone.now() + timedelta(days=2)).isoformat()
    bodies = {
        ("booking-list", "POST"): {
            "departure": world.departure.reference, "vessel_call": world.call.reference, "destination": "NLRTM",
            "containers": [{"size_type": "42G1", "quantity": 1}], "commodity": "Toys", "cargo_weight_kg": "9000",
        },
        ("booking-cancel", "POST"): {"reason": "No longer needed"},
        ("booking-amend", "POST"): {"containers": [{"size_type": "42G1", "quantity": 1}]},
        ("booking-roll", "POST"): {"vessel_call": world.call.reference, "reason": "Missed the cut-off"},
        ("api-import-booking-create", "POST"): {"departure": world.departure.reference,
                                                "vessel_call": world.call.reference,
                                                "containers": [world.container_number], "commodity": "Toys"},
        ("api-import-booking-move", "POST"): {"departure": world.departure.reference},
        ("api-arrivals-announce", "POST"): {"containers": [{
            "number": "TOLU4734787", "size_type": "42G1", "gross_weight_kg": "20000", "bl_number": "BL1",
            "consignee": world.orgs[K.ENTERPRISE].code, "port_of_loading": "NLRTM"}]},
        ("api-arrival-release", "POST"): {"kind": "freight"},
        ("booking-containers", "POST"): {"number": "TOLU4734787", "size_type": "42G1"},
        ("booking-container-update", "PATCH"): {"seal_number": "SEAL9"},
        ("booking-empty-requests", "POST"): {"size_type": "42G1", "quantity": 1},
        ("api-key-list", "POST"): {"name": "matrix"},
        # Each reporter reports what it may report (a railway its train's departure, the port a gate-in at
        # its terminal, refused as too early: a 409), so a 403 means the party may not report at all.
        ("api-events", "POST"): {
            K.RAILWAY: {"event_type": "TRANSPORT", "event_code": "DEPA",
                        "transport_reference": world.departure.reference},
            K.PORT: {"event_type": "EQUIPMENT", "event_code": "DISC", "equipment_reference": world.container_number},
        }.get(kind, {"event_type": "EQUIPMENT", "event_code": "LOAD", "equipment_reference": world.container_number}),
        ("declaration-list", "POST"): {"booking": world.undeclared.reference, "trade_mode": "0110",
                                       "transport_mode": "rail_vessel", "lines": [factories.goods_line()]},
        ("declaration-detail", "PATCH"): {"trade_mode": "0110"},
        ("declaration-decide", "POST"): {"decision": "clear", "reason": "Documents in order"},
        ("declaration-schedule", "POST"): {"appointment_at": future, "place": "Bay 3"},
        ("declaration-result", "POST"): {"result": "passed", "findings": "As declared"},
        ("customs:decide", "POST"): {"decision-kind": "clear", "decision-reason": "Documents in order"},
        ("customs:schedule", "POST"): {
            "schedule-appointment_at": timezone.localtime(timezone.now() + timedelta(days=2)).strftime(
                "%Y-%m-%d %H:%M"), "schedule-place": "Bay 3"},
        ("customs:record", "POST"): {"result-result": "passed", "result-findings": "As declared"},
        ("bookings:cancel", "POST"): {"reason": "No longer needed"},
        ("operations:scan", "POST"): {"number": world.container_number, "action": "load"},
        # The gate-in's right time: a minute earlier (its reporter corrects it; confirmed, whatever the plan).
        ("api-event-correction", "POST"): {
            "event_datetime": (world.event.event_datetime - timedelta(minutes=1)).isoformat(), "confirm": True},
        ("operations:event-correct", "POST"): {
            "at": timezone.localtime(world.event.event_datetime - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
            "confirm": "1"},
        ("documents:bill-request", "POST"): BILL,
        ("api-bill-of-lading", "POST"): BILL,
    }
    return bodies.get((view_name, method))
