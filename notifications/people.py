"""What people are told: in-app notifications, and email for the kinds each person chose.

A notification stores its kind and parameters, not text: it is written in the reader's language when shown
(page or email). Each is unique per person and fact (dedupe_key), so a relay or a periodic check that runs
twice tells nobody twice.
"""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bookings.models import AT_RISK_STATUSES, Booking, BookingStatus, Container, ContainerStatus
from bookings.selectors import connections_search
from inbound.services import FreeTime, demurrage_of, detention_of, detention_terms
from intermodal.codes import DocumentType, EventType
from intermodal.models import Event, PartyKind, User
from notifications.models import (
    EMAIL_BY_DEFAULT,
    EmailPreference,
    Notification,
    NotificationKind,
    Subscription,
)
from stations.models import Direction, Terminal, VesselCall, localised
from tracking.visibility import as_seen_by

logger = logging.getLogger(__name__)

K = NotificationKind
LOCALISED_PARAMS = ("station", "place")  # each kept beside its Chinese name, `<name>_zh`


def title(notification: Notification) -> str:
    """The one-line text of a notification, in the active language (places by their Chinese names on Chinese
    pages and emails, where the notification kept them)."""
    p = dict(notification.params)
    for name in LOCALISED_PARAMS:
        if name in p:
            p[name] = localised(p[name], p.get(f"{name}_zh", ""))
    texts = {
        K.BOOKING_CONFIRMED: lambda: _("Booking %(booking)s is confirmed on departure %(departure)s.") % p,
        K.BOOKING_ROLLED: lambda: _("Booking %(booking)s was rolled to departure %(departure)s.") % p,
        K.BOOKING_AT_RISK: lambda: (
            _("Booking %(booking)s may miss vessel %(vessel)s: next option %(alternative)s.") % p
            if p.get("alternative") else
            _("Booking %(booking)s may miss vessel %(vessel)s and no later departure makes it.") % p),
        K.CONTAINER_LEFT_BEHIND: lambda: (
            (_("Container %(container)s of booking %(booking)s was left behind at %(place)s: the train left "
               "without it.") if p.get("missed") == "train" else
             _("Container %(container)s of booking %(booking)s was left behind at %(place)s: the vessel sailed "
               "without it.")) % p
            + (" " + _("Next option: %(alternative)s.") % p if p.get("alternative") else "")),
        K.EMPTIES_READY: lambda: _("%(quantity)s x %(size_type)s empties for booking %(booking)s are ready "
                                   "at %(station)s.") % p,
        K.DECLARATION_DECIDED: lambda: {
            "RELS": _("Declaration %(declaration)s for booking %(booking)s is released."),
            "REJE": _("Declaration %(declaration)s for booking %(booking)s is rejected: %(reason)s"),
            "HOLD": _("Declaration %(declaration)s for booking %(booking)s is held for inspection."),
        }.get(p.get("code"), _("Declaration %(declaration)s was decided.")) % p,
        K.LAST_FREE_DAY: lambda: _("Booking %(booking)s: %(day)s is the last free day at the station.") % p,
        K.FREE_TIME_ENDING: lambda: (
            _("Container %(container)s (booking %(booking)s): %(day)s is its last free day at %(station)s; from the "
              "day after, demurrage of %(currency)s %(rate)s a TEU a day.")
            if p.get("clock") == "demurrage" else
            _("Container %(container)s (booking %(booking)s): %(day)s is the last free day to return it empty; "
              "from the day after, detention of %(currency)s %(rate)s a TEU a day.")) % p,
        K.FREE_TIME_PASSED: lambda: (
            _("Container %(container)s (booking %(booking)s) is past its free time at %(station)s since %(day)s: "
              "demurrage of %(currency)s %(rate)s a TEU a day accrues until it is picked up.")
            if p.get("clock") == "demurrage" else
            _("Container %(container)s (booking %(booking)s) is past its free time since %(day)s: detention of "
              "%(currency)s %(rate)s a TEU a day accrues until it is returned empty.")) % p,
        K.SUBSCRIPTION_DISABLED: lambda: _("Webhook subscription %(name)s was disabled: %(reason)s") % p,
    }
    try:
        return texts[notification.kind]()
    except (KeyError, TypeError, ValueError):
        return notification.get_kind_display()


def wants_email(user: User, kind: str, choices: dict[tuple[int, str], bool] | None = None) -> bool:
    if choices is not None and (user.pk, kind) in choices:
        return choices[(user.pk, kind)]
    if choices is None:
        chosen = EmailPreference.objects.filter(user=user, kind=kind).values_list("by_email", flat=True).first()
        if chosen is not None:
            return chosen
    return kind in EMAIL_BY_DEFAULT and bool(user.email)


def notify(users, kind: str, params: dict, link: str, dedupe_key: str) -> list[int]:
    """Tell each of `users` once; returns the ids of the new notifications that go out by email too."""
    return notify_many([(list(users), kind, params, link, dedupe_key)])


def notify_many(tellings: list[tuple[list[User], str, dict, str, str]]) -> list[int]:
    """`notify` for many facts at once, (users, kind, params, link, dedupe key) each, in three statements
    whatever their number: the relay tells a batch's facts together (the empties ready of a hundred import
    containers cost it three statements each, a third of its time in P1)."""
    rows = [Notification(user=user, kind=kind, params=params, link=link, dedupe_key=dedupe_key)
            for users, kind, params, link, dedupe_key in tellings for user in users if user.is_active]
    if not rows:
        return []
    # ignore_conflicts returns no ids: the new rows are read back below.
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    told = {(row.user_id, row.dedupe_key) for row in rows}
    users = {row.user_id: row.user for row in rows}
    fresh = Notification.objects.filter(user__in=sorted(users), dedupe_key__in=sorted({key for _u, key in told}),
                                        emailed_at__isnull=True,
                                        created_at__gte=timezone.now() - timedelta(minutes=5))
    kinds = sorted({row.kind for row in rows})
    choices = {(c.user_id, c.kind): c.by_email
               for c in EmailPreference.objects.filter(user__in=sorted(users), kind__in=kinds)}
    return sorted(n.pk for n in fresh if (n.user_id, n.dedupe_key) in told
                  and wants_email(users[n.user_id], n.kind, choices) and users[n.user_id].email)


def _shipper_users(bookings: dict[str, Booking], reference: str) -> list[User]:
    booking = bookings.get(reference)
    if booking is None:
        return []
    return list(booking.shipper.users.all())


def notifications_from_events(events: list[Event]) -> list[int]:
    """The relay's part for people: confirmations, rolls, empties ready, customs decisions -> the shipper's
    people. Returns the notifications to email."""
    relevant = [e for e in events if e.booking_reference and (
        (e.event_type == EventType.SHIPMENT and e.event_code == "CONF" and e.document_type == DocumentType.BKG)
        or (e.event_type == EventType.EQUIPMENT and e.event_code in ("AVPU", "MISS"))
        or (e.event_type == EventType.SHIPMENT and e.document_type == DocumentType.CUS
            and e.event_code in ("RELS", "REJE", "HOLD")))]
    if not relevant:
        return []
    bookings = {b.reference: b for b in Booking.objects.select_related(
        "shipper", "departure__service__station__operator", "departure__service__terminal", "vessel_call",
        "destination").prefetch_related("shipper__users", "departure__service__station__operator__users")
        .filter(reference__in={e.booking_reference for e in relevant})}
    tellings = []
    for event in relevant:
        users = _shipper_users(bookings, event.booking_reference)
        booking = bookings.get(event.booking_reference)
        if not users or booking is None:
            continue
        link = reverse("bookings:detail", args=[booking.reference])
        base = {"booking": booking.reference}
        if event.event_code == "CONF":
            rolled = (event.details or {}).get("change") == "rolled"
            kind = K.BOOKING_ROLLED if rolled else K.BOOKING_CONFIRMED
            params = {**base, "departure": event.transport_reference}
        elif event.event_code == "MISS":
            # The shipper, who must roll it, and the station, which holds it or sent it: at once.
            station = booking.departure.service.station
            if station.operator is not None:
                users = users + [u for u in station.operator.users.all() if u not in users]
            kind = K.CONTAINER_LEFT_BEHIND
            where = {"station": station, "terminal": booking.departure.service.terminal}.get(event.facility_kind)
            place = {"place": where.name, "place_zh": where.name_zh} if where is not None else {
                "place": str(_("on the way to the port"))}
            params = {**base, "container": event.equipment_reference, "missed": (event.details or {}).get("missed"),
                      "transport": event.transport_reference, **place,
                      "alternative": _alternative(booking, timezone.now())}
        elif event.event_code == "AVPU":
            kind = K.EMPTIES_READY
            details = event.details or {}
            params = {**base, "quantity": details.get("quantity", ""), "size_type": details.get("size_type", ""),
                      "station": booking.departure.service.station.name,
                      "station_zh": booking.departure.service.station.name_zh}
        else:
            kind = K.DECLARATION_DECIDED
            [seen] = as_seen_by(PartyKind.ENTERPRISE, [event])  # the shipper's people: no officer's notes
            params = {**base, "declaration": event.document_reference, "code": event.event_code,
                      "reason": seen.reason}
            link = reverse("customs:detail", args=[event.document_reference])
        tellings.append((users, kind, params, link, f"{kind}:{event.event_id}"))
    return notify_many(tellings)


# --- Periodic checks ------------------------------------------------------------------------------------




def _at_risk_candidates(now):
    """Bookings whose train is now expected at the terminal later than the vessel's CY cut-off allows, or
    whose vessel sailed without them; the generous buffer here is narrowed by Booking.is_at_risk."""
    from django.db.models import F
    from django.db.models.functions import Coalesce

    longest_buffer = max([settings.TERMINAL_HANDLING_BUFFER, *[
        timedelta(hours=h) for h in Terminal.objects.exclude(handling_buffer_hours__isnull=True)
        .values_list("handling_buffer_hours", flat=True)]])
    return (
        Booking.objects.filter(status__in=AT_RISK_STATUSES, vessel_call__etd__gt=now - timedelta(days=2))
        .annotate(arrival=Coalesce("departure__actual_arrival", "departure__estimated_arrival",
                                   "departure__planned_arrival"))
        .filter(Q(arrival__gt=F("vessel_call__cy_cutoff") - longest_buffer)
                | Q(vessel_call__actual_departure__isnull=False, status__in=[BookingStatus.CONFIRMED,
                                                                              BookingStatus.IN_TRANSIT]))
        .select_related("departure__service__station", "departure__service__terminal", "vessel_call__terminal",
                        "shipper", "destination")
        .prefetch_related("lines", "shipper__users")
    )


def _alternative(booking: Booking, now) -> str:
    """The next departure from the booking's station that still makes its vessel, else the next vessel to its
    destination that its train still makes."""

    if booking.status == BookingStatus.CONFIRMED:
        lines = {line.size_type: line.quantity for line in booking.lines.all()}
        station = booking.departure.service.station
        for search in ({"vessel_call": booking.vessel_call}, {"destination": booking.destination}):
            try:
                options = [o for o in connections_search(station=station, lines=lines, limit=5, **search)
                           if o.departure.pk != booking.departure_id]
            except Exception:  # noqa: BLE001 - a failed search must not stop the alert itself
                logger.exception("No alternative searched for %s", booking.reference)
                options = []
            if options:
                best = options[0]
                return (f"{best.departure.reference} → {best.vessel_call.vessel_name} "
                        f"{best.vessel_call.voyage}")
    terminal = booking.departure.service.terminal
    later = (VesselCall.objects.filter(terminal=terminal, destinations=booking.destination, etd__gt=now,
                                       actual_departure__isnull=True,
                                       cy_cutoff__gte=booking.eta_at_terminal)
             .exclude(pk=booking.vessel_call_id).order_by("etd").first())
    return f"{later.vessel_name} {later.voyage}" if later else ""


def at_risk_alerts(now=None) -> int:
    """Bookings whose departure is now expected too late for the vessel's CY cut-off: tell the shipper, with
    the next departure (or vessel) that still works. Once per booking, departure and expected arrival."""
    now = now or timezone.now()
    emails: list[int] = []
    told = 0
    for booking in _at_risk_candidates(now):
        if not booking.is_at_risk:
            continue
        expected = booking.departure.expected_arrival
        key = f"{K.BOOKING_AT_RISK}:{booking.reference}:{booking.departure.reference}:{expected.isoformat()}"
        if Notification.objects.filter(dedupe_key=key).exists():
            continue
        params = {"booking": booking.reference,
                  "vessel": f"{booking.vessel_call.vessel_name} {booking.vessel_call.voyage}",
                  "alternative": _alternative(booking, now)}
        emails += notify(booking.shipper.users.all(), K.BOOKING_AT_RISK, params,
                         reverse("bookings:detail", args=[booking.reference]), key)
        told += 1
    transaction.on_commit(lambda: emails_dispatch(emails))
    return told


def last_free_day_reminders(today=None) -> int:
    """Bookings whose last free day at the station is tomorrow while containers are still there."""
    today = today or timezone.localdate()
    tomorrow = today + timedelta(days=1)
    emails: list[int] = []
    count = 0
    bookings = (Booking.objects.filter(status=BookingStatus.CONFIRMED, free_time_start__isnull=False)
                .select_related("shipper").prefetch_related("shipper__users"))
    for booking in bookings:
        if booking.last_free_day != tomorrow:
            continue
        params = {"booking": booking.reference, "day": tomorrow.isoformat()}
        emails += notify(booking.shipper.users.all(), K.LAST_FREE_DAY, params,
                         reverse("bookings:detail", args=[booking.reference]),
                         f"{K.LAST_FREE_DAY}:{booking.reference}:{tomorrow.isoformat()}")
        count += 1
    transaction.on_commit(lambda: emails_dispatch(emails))
    return count


def _running_clock(container: Container, now: datetime, terms: dict) -> FreeTime | None:
    """An import container's running free-time clock: demurrage while it waits at the station, detention while its
    consignee has it (the carriers' terms read once per run)."""
    if container.status == ContainerStatus.AT_STATION:
        return demurrage_of(container, now=now)
    scac = container.booking.vessel_call.carrier_scac
    if scac not in terms:
        terms[scac] = detention_terms(scac)
    return detention_of(container, now=now, terms=terms[scac])


def free_time_reminders(now: datetime | None = None) -> int:
    """Tell the consignee of each import container, in the station's calendar, the day before its last free day
    (or on it, if that day's run was missed) and once that day has passed (charges accrue): demurrage while it
    waits at the station, detention while the consignee has it. Once per container, clock and stage, however often
    and on however many workers this runs: each notification is unique per person and fact (its dedupe key), and
    an email goes out once per notification (notification_email). Returns the notifications made."""
    now = now or timezone.now()
    containers = (Container.objects.filter(booking__direction=Direction.IMPORT, is_active=True,
                                           status__in=[ContainerStatus.AT_STATION, ContainerStatus.DELIVERED])
                  .select_related("booking__departure__service__station", "booking__vessel_call", "booking__shipper")
                  .order_by("pk"))
    due: list[tuple[str, str, Container, FreeTime]] = []
    terms: dict[str, tuple] = {}
    for container in containers:
        station = container.booking.departure.service.station
        today = timezone.localtime(now, ZoneInfo(station.timezone)).date()
        clock = _running_clock(container, now, terms)
        if clock is None or today < clock.last_free_day - timedelta(days=1):
            continue
        kind = K.FREE_TIME_PASSED if today > clock.last_free_day else K.FREE_TIME_ENDING
        due.append((f"{kind}:{container.booking.reference}:{container.number}:{clock.kind}", kind, container, clock))
    told_before = set(Notification.objects.filter(dedupe_key__in=[key for key, *_rest in due])
                      .values_list("dedupe_key", flat=True))
    users_of: dict[int, list[User]] = {}
    emails: list[int] = []
    made = 0
    for key, kind, container, clock in due:
        if key in told_before:
            continue
        booking, station = container.booking, container.booking.departure.service.station
        if booking.shipper_id not in users_of:
            users_of[booking.shipper_id] = list(booking.shipper.users.all())
        params = {"booking": booking.reference, "container": container.number, "clock": clock.kind,
                  "day": clock.last_free_day.isoformat(), "rate": f"{clock.per_teu_day:.2f}",
                  "currency": clock.currency, "station": station.name, "station_zh": station.name_zh}
        emails += notify(users_of[booking.shipper_id], kind, params,
                         reverse("bookings:detail", args=[booking.reference]), key)
        made += 1
    transaction.on_commit(lambda: emails_dispatch(emails))
    return made


def notify_subscription_disabled(subscription_id: int) -> None:
    subscription = Subscription.objects.select_related("organisation").get(pk=subscription_id)
    params = {"name": subscription.name or subscription.url, "reason": subscription.disabled_reason}
    link = reverse("notifications:subscription", args=[subscription.subscription_id])
    key = f"{K.SUBSCRIPTION_DISABLED}:{subscription.subscription_id}:{subscription.disabled_at.isoformat()}"
    emails = notify(subscription.organisation.users.all(), K.SUBSCRIPTION_DISABLED, params, link, key)
    emails_dispatch(emails)


# --- Email ----------------------------------------------------------------------------------------------


def emails_dispatch(notification_ids: list[int]) -> None:
    if not notification_ids:
        return

    try:
        for pk in notification_ids:
            notification_email_task.apply_async(args=[pk])
    except Exception as error:  # noqa: BLE001 - the periodic email sweep sends them later
        logger.warning("Emails not queued (%s); the sweep will send them", error)


def notification_email(notification_id: int) -> bool:
    """Send one notification by email, in the reader's language; once."""
    with transaction.atomic():
        notification = (Notification.objects.select_for_update(skip_locked=True, of=("self",))
                        .select_related("user").filter(pk=notification_id, emailed_at__isnull=True).first())
        if notification is None or not wants_email(notification.user, notification.kind):
            return False
        user = notification.user
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject = title(notification)
            body = render_to_string("notifications/email.txt", {
                "notification": notification, "title": subject, "user": user,
                "url": settings.SITE_URL.rstrip("/") + notification.link if notification.link else "",
            })
        send_mail(subject[:150], body, settings.DEFAULT_FROM_EMAIL, [user.email])
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def emails_sweep() -> int:
    """Emails the trigger missed (broker down): notifications of the last day that should have gone out."""
    since = timezone.now() - timedelta(days=1)
    pending = Notification.objects.filter(emailed_at__isnull=True, created_at__gte=since,
                                          created_at__lte=timezone.now() - timedelta(minutes=2)
                                          ).exclude(user__email="").select_related("user")
    choices = {(c.user_id, c.kind): c.by_email for c in EmailPreference.objects.filter(
        Q(user__in=pending.values("user")))}
    ids = [n.pk for n in pending[:500] if wants_email(n.user, n.kind, choices)]
    emails_dispatch(ids)
    return len(ids)


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --- Tasks ---------------------------------------------------------------------------------------------


@shared_task(name="notifications.notification_email")
def notification_email_task(notification_id: int) -> bool:
    return notification_email(notification_id)


@shared_task(name="notifications.emails_sweep")
def emails_sweep_task() -> int:
    return emails_sweep()


@shared_task(name="notifications.at_risk_alerts")
def at_risk_alerts_task() -> int:
    return at_risk_alerts()


@shared_task(name="notifications.last_free_day_reminders")
def last_free_day_reminders_task() -> int:
    return last_free_day_reminders()


@shared_task(name="notifications.free_time_reminders")
def free_time_reminders_task() -> int:
    return free_time_reminders()
