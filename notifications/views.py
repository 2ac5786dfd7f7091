"""Pages: a person's notifications (the bell) and email choices; an organisation's webhook subscriptions,
with the secret shown once, a test message, and the delivery log with "resend".

Reads go through the selectors (another organisation's subscription is a 404), writes through the services.
"""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from intermodal.access import Actor
from intermodal.errors import ApplicationError, NotFound
from intermodal.models import PartyKind
from notifications import delivery as deliveries
from notifications import selectors, services
from notifications.forms import DeliveryFilterForm, EmailPreferencesForm, SubscriptionForm
from notifications.models import EmailPreference, NotificationKind, SubscriptionFormat
from notifications.people import title, wants_email

PAGE_SIZE = 25
SECRET_SESSION_KEY = "notifications.new_secret"  # noqa: S105 - a session key name, not a secret


def _may_manage_webhooks(actor: Actor) -> bool:
    return actor.organisation is not None and actor.kind != PartyKind.LOCAL_GOVERNMENT


def webhook_page(view):
    """Signed in, and of an organisation that may have webhooks (else a page saying so, 403); the view gets the
    actor after the request."""

    @login_required
    @functools.wraps(view)
    def page(request, *args, **kwargs):
        actor = Actor.from_request(request)
        if not _may_manage_webhooks(actor):
            return render(request, "notifications/not_for_you.html", status=403)
        return view(request, actor, *args, **kwargs)

    return page


# --- Notifications --------------------------------------------------------------------------------------


@login_required
def inbox(request):
    actor = Actor.from_request(request)
    notifications = selectors.notification_list(actor=actor)
    only_unread = request.GET.get("unread") == "1"
    if only_unread:
        notifications = notifications.filter(read_at__isnull=True)
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"notification": n, "title": title(n)} for n in page.object_list]
    return render(request, "notifications/inbox.html", {"page": page, "rows": rows, "only_unread": only_unread})


@login_required
@require_POST
def notification_read(request, pk: int):
    notification = selectors.notification_list(actor=Actor.from_request(request)).filter(pk=pk).first()
    if notification is None:
        raise Http404
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    if request.POST.get("open") and notification.link.startswith("/"):
        return redirect(notification.link)
    return redirect("notifications:inbox")


@login_required
@require_POST
def notifications_read_all(request):
    count = selectors.notification_list(actor=Actor.from_request(request)).filter(read_at__isnull=True).update(
        read_at=timezone.now())
    messages.success(request, _("%(count)s notifications marked as read.") % {"count": count})
    return redirect("notifications:inbox")


@login_required
def email_preferences(request):
    user = request.user
    chosen = {kind: wants_email(user, kind) for kind in NotificationKind.values}
    form = EmailPreferencesForm(request.POST or None, chosen=chosen)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            for kind in NotificationKind.values:
                EmailPreference.objects.update_or_create(user=user, kind=kind,
                                                         defaults={"by_email": form.cleaned_data[kind]})
        messages.success(request, _("Your email choices are saved."))
        return redirect("notifications:email-preferences")
    return render(request, "notifications/email_preferences.html", {"form": form})


# --- Webhook subscriptions ------------------------------------------------------------------------------


def _subscription(actor: Actor, subscription_id):
    try:
        return selectors.subscription_get(actor=actor, subscription_id=subscription_id)
    except NotFound:
        raise Http404 from None


def _delivery(actor: Actor, webhook_id: str):
    try:
        return selectors.delivery_get(actor=actor, webhook_id=webhook_id)
    except NotFound:
        raise Http404 from None


@webhook_page
def subscription_list(request, actor):
    subscriptions = selectors.subscription_list(actor=actor).order_by("-created_at")
    return render(request, "notifications/subscription_list.html", {"subscriptions": subscriptions})


def _form_fields(form: SubscriptionForm) -> dict:
    data = dict(form.cleaned_data)
    data["event_kinds"] = list(data["event_kinds"])
    return data


@webhook_page
def subscription_new(request, actor):
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = _form_fields(form)
        data.pop("is_active")
        try:
            created = services.subscription_create(actor=actor, **data)
        except ApplicationError as error:
            _form_errors(form, error)
        else:
            request.session[SECRET_SESSION_KEY] = created.secret
            messages.success(request, _("Subscription created. Copy the secret now: it is shown only once."))
            return redirect("notifications:subscription", created.subscription.subscription_id)
    return render(request, "notifications/subscription_form.html", {"form": form, "subscription": None})


def _form_errors(form, error: ApplicationError) -> None:
    errors = getattr(error, "errors", None) or {}
    for name, problems in errors.items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)
    if not errors:
        form.add_error(None, str(error))


@webhook_page
def subscription_detail(request, actor, subscription_id):
    subscription = _subscription(actor, subscription_id)
    if subscription.format in (SubscriptionFormat.STANDARD, SubscriptionFormat.IFTSTA):  # the same filters
        initial = {f: getattr(subscription, f) for f in ("name", "url", "event_kinds", "station_code",
                                                          "booking_reference", "equipment_reference", "is_active")}
        form = SubscriptionForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.subscription_update(actor=actor, subscription=subscription, **_form_fields(form))
            except ApplicationError as error:
                _form_errors(form, error)
            else:
                messages.success(request, _("Subscription saved."))
                return redirect("notifications:subscription", subscription.subscription_id)
    else:
        form = None
    filters = DeliveryFilterForm(request.GET or None)
    log = selectors.delivery_list(actor=actor).filter(subscription=subscription).select_related("event")
    if filters.is_valid() and filters.cleaned_data["status"]:
        log = log.filter(status=filters.cleaned_data["status"])
    page = Paginator(log, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/subscription_detail.html", {
        "subscription": subscription, "form": form, "filters": filters, "page": page,
        "new_secret": request.session.pop(SECRET_SESSION_KEY, None),
    })


@webhook_page
@require_POST
def subscription_rotate(request, actor, subscription_id):
    subscription = _subscription(actor, subscription_id)
    request.session[SECRET_SESSION_KEY] = services.subscription_rotate_secret(actor=actor, subscription=subscription)
    messages.success(request, _("New secret made. Copy it now: it is shown only once; the old one no longer signs."))
    return redirect("notifications:subscription", subscription.subscription_id)


@webhook_page
@require_POST
def subscription_test(request, actor, subscription_id):
    subscription = _subscription(actor, subscription_id)
    delivery = services.subscription_test(actor=actor, subscription=subscription)
    messages.success(request, _("Test message %(id)s is on its way; its result appears in the log below.")
                     % {"id": delivery.webhook_id})
    return redirect("notifications:subscription", subscription.subscription_id)


@webhook_page
@require_POST
def subscription_delete(request, actor, subscription_id):
    services.subscription_delete(actor=actor, subscription=_subscription(actor, subscription_id))
    messages.success(request, _("Subscription deleted."))
    return redirect("notifications:subscriptions")


@webhook_page
def delivery_detail(request, actor, webhook_id):
    delivery = _delivery(actor, webhook_id)
    return render(request, "notifications/delivery_detail.html", {"delivery": delivery})


@webhook_page
@require_POST
def delivery_resend(request, actor, webhook_id):
    delivery = _delivery(actor, webhook_id)
    deliveries.delivery_resend(delivery)
    messages.success(request, _("Delivery %(id)s is being sent again.") % {"id": delivery.webhook_id})
    return redirect("notifications:delivery", delivery.webhook_id)
