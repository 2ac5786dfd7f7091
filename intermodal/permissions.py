"""The permission matrix: for every route, who may call it, with which API key scope, and what the others get.

One table, read by the code and enumerated by the tests:

- `ScopedAccess` (intermodal/access.py) takes the scope an API key needs and whether anonymous reading is
  allowed from here; pages' party checks (`party_required`, `enterprise_required`) take the party kinds from
  here.
- tests/security/test_matrix.py walks Django's URL resolver: a route missing from this table fails it by name,
  and every route is called by every party kind (by API key and by session), anonymously and with a revoked key,
  on its own organisation's object and on another organisation's, and must answer what `expected()` says.

Outcomes: ALLOW (the request passes the permission layer: 2xx, a redirect that is not to the login page, or a
400/409/422 about the input or the state), LOGIN (401 on the API, the login page for pages), FORBIDDEN (403),
HIDDEN (404: another organisation's object, or one the caller's party never sees).
"""

from dataclasses import dataclass, field
from enum import StrEnum

from intermodal.models import DEFAULT_SCOPES, PartyKind, Scope


class Outcome(StrEnum):
    ALLOW = "allow"
    LOGIN = "login"
    FORBIDDEN = "forbidden"
    HIDDEN = "hidden"


class Caller(StrEnum):
    """How a request authenticates, besides a party kind."""

    SESSION = "session"
    KEY = "key"
    ANONYMOUS = "anonymous"
    REVOKED_KEY = "revoked_key"


K = PartyKind
ALL = frozenset(K.values)
ADMIN = frozenset({K.PLATFORM_ADMIN})
SHIPPER = frozenset({K.ENTERPRISE, K.PLATFORM_ADMIN})
STATION = frozenset({K.STATION_OPERATOR, K.PLATFORM_ADMIN})
RAILWAY = frozenset({K.RAILWAY, K.PLATFORM_ADMIN})
PORT = frozenset({K.PORT, K.PLATFORM_ADMIN})
REPORTERS = frozenset({K.STATION_OPERATOR, K.RAILWAY, K.PORT, K.PLATFORM_ADMIN})
# Who sees bookings (bookings.selectors.booking_scope): the shipper and the operators on its way.
BOOKING_PARTIES = frozenset({K.ENTERPRISE, K.STATION_OPERATOR, K.RAILWAY, K.PORT, K.PLATFORM_ADMIN})
DECLARATION_PARTIES = frozenset({K.ENTERPRISE, K.CUSTOMS, K.BORDER_INSPECTION, K.PLATFORM_ADMIN})
# Who sees a booking's events (bookings.selectors.events_visible) and may track it: the booking's parties.
EVENT_PARTIES = BOOKING_PARTIES
# Who may correct the matrix's event (a station's gate-in): its reporter's organisation, and the platform admin.
CORRECTORS = frozenset({K.STATION_OPERATOR, K.PLATFORM_ADMIN})
SHIPPER_OR_STATION = frozenset({K.ENTERPRISE, K.STATION_OPERATOR, K.PLATFORM_ADMIN})
# Every organisation but a local government office may keep webhooks (notifications.views).
WEBHOOK_PARTIES = ALL - {K.LOCAL_GOVERNMENT}
# Officers decide for their agency: a platform admin has none, so it may not decide.
DECIDERS = frozenset({K.CUSTOMS, K.BORDER_INSPECTION})


@dataclass(frozen=True)
class Access:
    """One method of one route."""

    scope: str | None = None  # what an API key needs (people signed in are limited by party kind instead)
    parties: frozenset = ALL  # the party kinds that may
    others: Outcome = Outcome.FORBIDDEN  # what the other party kinds get
    public: bool = False  # anonymous callers may (and keys are then not needed, but checked when sent)
    # Party kinds that see the object but may not do this to it: they get a 403 (the others get `others`).
    sees: frozenset = frozenset()
    # Only a person has it (an API key acts for no person): a key finds nothing, a 404.
    person_only: bool = False


@dataclass(frozen=True)
class Route:
    api: bool  # API (JSON, keys) or page (session)
    methods: dict[str, Access]
    # What the URL names, when it names an object of an organisation: another organisation's is a 404.
    subject: str | None = None
    notes: str = field(default="", compare=False)


def api(subject=None, **methods) -> Route:
    return Route(api=True, methods={m.upper(): a for m, a in methods.items()}, subject=subject)


def page(subject=None, **methods) -> Route:
    return Route(api=False, methods={m.upper(): a for m, a in methods.items()}, subject=subject)


OPEN = Access(public=True)
# A subscription of one's own organisation: a local government office has none (another's is a 404).
WEBHOOK_API = Access(scope=Scope.SUBSCRIPTIONS, parties=WEBHOOK_PARTIES, others=Outcome.HIDDEN)
SIGNED_IN = Access()
F, H = Outcome.FORBIDDEN, Outcome.HIDDEN
S = Scope

MATRIX: dict[str, Route] = {
    # --- Pages shared by every party ---------------------------------------------------------------------
    "home": page(get=OPEN),
    "search": page(get=SIGNED_IN),
    "login": page(get=OPEN, post=OPEN),
    "logout": page(post=OPEN),
    "set_language": page(post=OPEN),
    "healthz": page(get=OPEN),
    "track-public": page(get=OPEN),
    # --- Booking pages ---------------------------------------------------------------------------------------
    "bookings:list": page(get=SIGNED_IN),
    "bookings:new": page(get=Access(parties=frozenset({K.ENTERPRISE})), post=Access(parties=frozenset({K.ENTERPRISE}))),
    "bookings:detail": page("booking", get=Access(parties=BOOKING_PARTIES, others=H)),
    **{
        f"bookings:{action}": page("booking", post=Access(parties=frozenset({K.ENTERPRISE})))
        for action in ("confirm", "cancel", "amend", "roll", "empties", "add-container")
    },
    # An import booking's move to another import departure (operations: its form is on the booking page).
    "operations:import-booking-move": page("booking", post=Access(parties=frozenset({K.ENTERPRISE}))),
    # CSV / Excel (issue 7): exports of what the caller sees; bulk import is the shipper's.
    "bookings:export": page("export", get=SIGNED_IN),
    "events-export": page("export", get=SIGNED_IN),
    "bookings:import": page(get=Access(parties=frozenset({K.ENTERPRISE})),
                            post=Access(parties=frozenset({K.ENTERPRISE}))),
    "bookings:import-template": page(get=Access(parties=frozenset({K.ENTERPRISE}))),
    "bookings:import-detail": page("booking_import", get=Access(parties=frozenset({K.ENTERPRISE}))),
    "bookings:import-progress": page("booking_import", get=Access(parties=frozenset({K.ENTERPRISE}))),
    # Bills of lading (issue 7): the shipper asks, the station issues, the booking's parties read the PDF,
    # anyone holding the QR code's token verifies.
    "documents:bill-request": page("booking", post=Access(parties=SHIPPER, sees=BOOKING_PARTIES, others=H)),
    "documents:bill-issue": page("booking", post=Access(parties=STATION, sees=BOOKING_PARTIES, others=H)),
    "documents:bill-pdf": page("booking", get=Access(parties=BOOKING_PARTIES, others=H)),
    "documents:bill-of-lading-verify": page("bill_token", get=OPEN),
    "documents:booking-confirmation": page("booking", get=Access(parties=BOOKING_PARTIES, others=H)),
    # The gate's paper is the shipper's and its station's (documents/papers.py); others seeing the booking: 404.
    **{name: page("booking_container", get=Access(
        parties=frozenset({K.ENTERPRISE, K.STATION_OPERATOR, K.PLATFORM_ADMIN}), others=H))
       for name in ("documents:eir", "documents:container-label")},
    # A train's manifest is the railway's, its station's and the port's at its terminal (documents/manifest.py).
    "documents:manifest": page("departure_manifest", get=Access(
        parties=frozenset({K.RAILWAY, K.STATION_OPERATOR, K.PORT, K.PLATFORM_ADMIN}), others=H)),
    # Figures (issue 7): every party sees the figures of what concerns it.
    "figures:dashboard": page(get=SIGNED_IN),
    "figures:export": page("export", get=SIGNED_IN),
    # --- Operations pages ------------------------------------------------------------------------------------
    "operations:station-board": page(get=Access(parties=STATION)),
    "operations:scan": page(get=Access(parties=STATION), post=Access(parties=STATION)),
    "operations:empty-ready": page("empty_request", post=Access(parties=STATION)),
    "operations:empty-hand-out": page("empty_request", post=Access(parties=STATION)),
    "operations:load-all": page("station_departure", post=Access(parties=STATION)),
    "operations:railway": page(get=Access(parties=RAILWAY)),
    "operations:manifest": page("departure", get=Access(parties=RAILWAY)),
    **{
        f"operations:{action}": page("departure", post=Access(parties=RAILWAY))
        for action in ("departed", "arrived", "delay", "manifest-confirm")
    },
    "operations:port": page(get=Access(parties=PORT)),
    "operations:discharge": page("container", post=Access(parties=PORT)),
    "operations:terminal-gate-in": page("container", post=Access(parties=PORT)),
    "operations:vessel": page("vessel_call", get=Access(parties=PORT)),
    "operations:vessel-load": page("vessel_call_container", post=Access(parties=PORT)),
    "operations:sailed": page("vessel_call", post=Access(parties=PORT)),
    "operations:vessel-load-selected": page("vessel_call", post=Access(parties=PORT)),
    "operations:vessel-estimate": page("vessel_call", post=Access(parties=PORT)),
    # Imports (issue 19): the consignee's page, the station's import yard, the port's arrivals and outbound trains.
    "operations:imports": page(get=Access(parties=SHIPPER), post=Access(parties=SHIPPER)),
    "operations:import-yard": page(get=Access(parties=STATION)),
    **{f"operations:{action}": page("container", post=Access(parties=STATION))
       for action in ("import-discharge", "import-gate-out", "empty-return")},
    "operations:port-imports": page(get=Access(parties=PORT)),
    "operations:arrivals": page("vessel_call", get=Access(parties=PORT)),
    "operations:announce": page("vessel_call", post=Access(parties=PORT)),
    "operations:vessel-arrived": page("vessel_call", post=Access(parties=PORT)),
    "operations:vessel-discharge": page("vessel_call_container", post=Access(parties=PORT)),
    "operations:hold-lift": page("vessel_call_container", post=Access(parties=PORT)),
    "operations:import-load": page("container", post=Access(parties=PORT)),
    "operations:import-load-all": page("departure", post=Access(parties=PORT)),
    "operations:track": page(get=SIGNED_IN),
    # A report is corrected by the organisation that made it (journey.corrections): any other's is a 404 here.
    "operations:event-correct": page("event", get=Access(parties=CORRECTORS, others=H),
                                     post=Access(parties=CORRECTORS, others=H)),
    # --- Declaration pages -----------------------------------------------------------------------------------
    "customs:list": page(get=Access(parties=DECLARATION_PARTIES)),
    **{
        "customs:new": page("booking_to_declare", **{
            method: Access(parties=frozenset({K.ENTERPRISE}), sees=BOOKING_PARTIES, others=H)
            for method in ("get", "post")}),
    },
    "customs:detail": page("declaration", get=Access(parties=DECLARATION_PARTIES, others=H)),
    "customs:clear-selected": page(post=Access(parties=DECIDERS)),
    # The edit page is the declarant's own form: not even a platform admin fills it in for them.
    "customs:edit": page("declaration", **{
        method: Access(parties=frozenset({K.ENTERPRISE}), sees=DECLARATION_PARTIES, others=H)
        for method in ("get", "post")}),
    **{
        f"customs:{action}": page("declaration", post=Access(parties=parties, sees=DECLARATION_PARTIES, others=H))
        for action, parties in (("submit", SHIPPER), ("amend", SHIPPER), ("decide", DECIDERS),
                                ("schedule", DECIDERS), ("record", DECIDERS))
    },
    # --- API: who am I, keys -------------------------------------------------------------------------------
    "api-me": api(get=SIGNED_IN),
    "api-key-list": api(get=Access(scope=S.KEYS_MANAGE), post=Access(scope=S.KEYS_MANAGE)),
    "api-key-detail": api("api_key", get=Access(scope=S.KEYS_MANAGE)),
    "api-key-revoke": api("api_key", post=Access(scope=S.KEYS_MANAGE)),
    # --- API: published schedules --------------------------------------------------------------------------
    **{
        name: api(subject, get=Access(scope=S.SCHEDULES_READ, public=True))
        for name, subject in (
            ("station-list", None), ("station-detail", "station"), ("service-list", None),
            ("service-detail", "service"), ("departure-list", None), ("departure-detail", "published_departure"),
            ("vessel-call-list", None), ("vessel-call-detail", "published_vessel_call"),
            ("api-connections", None), ("api-quotes", None),
            ("dcsa-cs-point-to-point", None), ("dcsa-cs-port-schedules", None), ("dcsa-cs-vessel-schedules", None),
        )
    },
    # --- API: bookings ---------------------------------------------------------------------------------------
    "booking-list": api(get=Access(scope=S.BOOKINGS_READ),
                        post=Access(scope=S.BOOKINGS_WRITE, parties=frozenset({K.ENTERPRISE}))),
    "booking-detail": api("booking", get=Access(scope=S.BOOKINGS_READ, parties=BOOKING_PARTIES, others=H)),
    **{
        f"booking-{action}": api("booking", post=Access(scope=S.BOOKINGS_WRITE, parties=SHIPPER,
                                                       sees=BOOKING_PARTIES, others=H))
        for action in ("confirm", "cancel", "amend", "roll")
    },
    # Station staff assign container numbers and record seals and VGM at the gate, like the shipper.
    "booking-containers": api("booking", get=Access(scope=S.BOOKINGS_READ, parties=BOOKING_PARTIES, others=H),
                              post=Access(scope=S.BOOKINGS_WRITE, parties=SHIPPER_OR_STATION,
                                          sees=BOOKING_PARTIES, others=H)),
    "booking-container-update": api("booking_container", patch=Access(
        scope=S.BOOKINGS_WRITE, parties=SHIPPER_OR_STATION, sees=BOOKING_PARTIES, others=H)),
    "booking-empty-requests": api("booking", get=Access(scope=S.BOOKINGS_READ, parties=BOOKING_PARTIES, others=H),
                                  post=Access(scope=S.BOOKINGS_WRITE, parties=SHIPPER, sees=BOOKING_PARTIES,
                                              others=H)),
    "api-bill-of-lading": api("booking", get=Access(scope=S.BOOKINGS_READ, parties=BOOKING_PARTIES, others=H),
                              post=Access(scope=S.BOOKINGS_WRITE, parties=SHIPPER, sees=BOOKING_PARTIES, others=H)),
    "api-bill-of-lading-issue": api("booking", post=Access(scope=S.EVENTS_WRITE, parties=STATION,
                                                          sees=BOOKING_PARTIES, others=H)),
    "api-bill-of-lading-pdf": api("booking", get=Access(scope=S.BOOKINGS_READ, parties=BOOKING_PARTIES, others=H)),
    # Imports (inbound, journey/imports_api.py): the port announces a call's arriving containers and lifts holds;
    # consignees book them inland and move such a booking.
    "api-arrivals": api(get=Access(scope=S.BOOKINGS_READ)),
    "api-arrivals-announce": api("vessel_call", post=Access(scope=S.EVENTS_WRITE, parties=PORT)),
    "api-arrival-release": api("vessel_call_container", post=Access(
        scope=S.EVENTS_WRITE, parties=PORT, sees=frozenset({K.ENTERPRISE}), others=H)),
    "api-import-containers": api(get=Access(scope=S.BOOKINGS_READ)),
    "api-import-booking-create": api(post=Access(scope=S.BOOKINGS_WRITE, parties=frozenset({K.ENTERPRISE}))),
    "api-import-booking-move": api("booking", post=Access(scope=S.BOOKINGS_WRITE, parties=SHIPPER,
                                                          sees=BOOKING_PARTIES, others=H)),
    "api-figures": api(get=Access(scope=S.KPI_READ)),
    # --- Notifications and webhooks (issue 6) ---------------------------------------------------------------
    "notifications:inbox": page(get=SIGNED_IN),
    "notifications:read": page("notification", post=SIGNED_IN),
    "notifications:read-all": page(post=SIGNED_IN),
    "notifications:email-preferences": page(get=SIGNED_IN, post=SIGNED_IN),
    "notifications:subscriptions": page(get=Access(parties=WEBHOOK_PARTIES)),
    "notifications:subscription-new": page(get=Access(parties=WEBHOOK_PARTIES), post=Access(parties=WEBHOOK_PARTIES)),
    "notifications:subscription": page("subscription", get=Access(parties=WEBHOOK_PARTIES),
                                       post=Access(parties=WEBHOOK_PARTIES)),
    **{
        f"notifications:subscription-{action}": page("subscription", post=Access(parties=WEBHOOK_PARTIES))
        for action in ("rotate", "test", "delete")
    },
    "notifications:delivery": page("delivery", get=Access(parties=WEBHOOK_PARTIES)),
    "notifications:delivery-resend": page("delivery", post=Access(parties=WEBHOOK_PARTIES)),
    "subscription-list": api(get=Access(scope=S.SUBSCRIPTIONS), post=Access(scope=S.SUBSCRIPTIONS)),
    "subscription-detail": api("subscription", get=WEBHOOK_API, patch=WEBHOOK_API, delete=WEBHOOK_API),
    "subscription-rotate-secret": api("subscription", post=WEBHOOK_API),
    "subscription-test": api("subscription", post=WEBHOOK_API),
    "webhook-delivery-list": api(get=Access(scope=S.SUBSCRIPTIONS)),
    "webhook-delivery-detail": api("delivery", get=WEBHOOK_API),
    "webhook-delivery-resend": api("delivery", post=WEBHOOK_API),
    "notification-list": api(get=SIGNED_IN),
    # A person's own notifications: an API key has none, so it finds none to mark.
    "notification-read": api("notification", post=Access(person_only=True)),
    "notification-read-all": api(post=SIGNED_IN),
    "dcsa-subscriptions": api(get=Access(scope=S.SUBSCRIPTIONS), post=Access(scope=S.SUBSCRIPTIONS)),
    "dcsa-subscription": api("dcsa_subscription", get=WEBHOOK_API, put=WEBHOOK_API, delete=WEBHOOK_API),
    "dcsa-subscription-secret": api("dcsa_subscription", put=WEBHOOK_API),
    # --- API: events and tracking --------------------------------------------------------------------------
    "api-events": api(get=Access(scope=S.EVENTS_READ), post=Access(scope=S.EVENTS_WRITE, parties=REPORTERS)),
    "api-event-correction": api("event", post=Access(scope=S.EVENTS_WRITE, parties=CORRECTORS,
                                                     sees=EVENT_PARTIES - CORRECTORS, others=H)),
    "api-track": api("container", get=Access(scope=S.EVENTS_READ, parties=BOOKING_PARTIES, others=H)),
    "dcsa-events": api(get=Access(scope=S.EVENTS_READ)),
    # DCSA Booking 2.0.5: a shipper's booking requests (bkg/); the platform's admins may read and act on them.
    "dcsa-bkg-bookings": api(post=Access(scope=S.BOOKINGS_WRITE, parties=frozenset({K.ENTERPRISE}))),
    "dcsa-bkg-booking": api("dcsa_booking", **{
        method: Access(scope=S.BOOKINGS_READ if method == "get" else S.BOOKINGS_WRITE, parties=SHIPPER, others=H)
        for method in ("get", "put", "patch")}),
    "dcsa-event": api("event", get=Access(scope=S.EVENTS_READ, parties=EVENT_PARTIES, others=H)),
    # UN/EDIFACT D.95B (edi): IFTSTA of the events the caller may see; CODECO/COARRI reported as events.
    "edi-iftsta": api(get=Access(scope=S.EVENTS_READ)),
    "edi-inbound": api(post=Access(scope=S.EVENTS_WRITE, parties=REPORTERS)),
    # --- API: declarations -----------------------------------------------------------------------------------
    "declaration-list": api(get=Access(scope=S.DECLARATIONS_READ),
                            post=Access(scope=S.DECLARATIONS_WRITE, parties=SHIPPER, others=F)),
    "declaration-detail": api("declaration",
                              get=Access(scope=S.DECLARATIONS_READ, parties=DECLARATION_PARTIES, others=H),
                              patch=Access(scope=S.DECLARATIONS_WRITE, parties=SHIPPER, sees=DECLARATION_PARTIES,
                                           others=H)),
    **{
        f"declaration-{action}": api("declaration", post=Access(scope=S.DECLARATIONS_WRITE, parties=parties,
                                                               sees=DECLARATION_PARTIES, others=H))
        for action, parties in (("submit", SHIPPER), ("amend", SHIPPER), ("decide", DECIDERS),
                                ("schedule", DECIDERS), ("result", DECIDERS))
    },
    # --- API description ------------------------------------------------------------------------------------
    "api-schema": api(get=OPEN),
    "api-docs": api(get=OPEN),  # a page, but a DRF view: a key that is sent is checked
}

# The Django admin: staff only (its own login page); every admin route follows this one rule.
ADMIN_NAMESPACE = "admin"


def route_for(view_name: str | None) -> Route | None:
    return MATRIX.get(view_name or "")


def access_for(view_name: str | None, method: str) -> Access | None:
    route = route_for(view_name)
    if route is None:
        return None
    method = "GET" if method == "HEAD" else method.upper()
    return route.methods.get(method)


def page_parties(view_name: str | None, method: str, default: frozenset) -> frozenset:
    """The party kinds a page lets in: the matrix's, or `default` for a route it does not list yet."""
    access = access_for(view_name, method) or access_for(view_name, "GET")
    return access.parties if access is not None else default


def expected(view_name: str, method: str, *, kind: str | None, caller: Caller, foreign: bool) -> Outcome:
    """What `caller` (of party `kind`) must get from `method` on route `view_name`, on its own organisation's
    object or (`foreign`) on another organisation's."""
    route, access = MATRIX[view_name], MATRIX[view_name].methods[method]
    if caller == Caller.REVOKED_KEY and route.api:
        return Outcome.LOGIN  # even on public routes: a key that is sent is checked
    if caller in (Caller.ANONYMOUS, Caller.REVOKED_KEY):  # pages ignore keys
        return Outcome.ALLOW if access.public else Outcome.LOGIN
    if access.public and not access.scope:
        return Outcome.ALLOW
    if caller == Caller.KEY and access.scope and access.scope not in DEFAULT_SCOPES[kind]:
        return Outcome.FORBIDDEN
    if access.person_only and caller == Caller.KEY:
        return Outcome.HIDDEN
    hidden = foreign and (route.subject == "notification"  # a person's own: nobody else's, not even an admin's
                          or route.subject in OWNED_SUBJECTS | PRIVATE_SUBJECTS and kind != K.PLATFORM_ADMIN)
    if kind not in access.parties:
        if kind in access.sees:
            return Outcome.HIDDEN if hidden else Outcome.FORBIDDEN
        return access.others
    if hidden:
        return Outcome.HIDDEN
    return Outcome.ALLOW


# Objects that belong to an organisation (or its places and services); the rest (stations, services, the
# published departures and vessel calls) are public schedules that anyone may read.
OWNED_SUBJECTS = frozenset({
    "booking", "booking_container", "booking_to_declare", "container", "empty_request", "declaration",
    "event", "departure", "departure_manifest", "station_departure", "vessel_call", "vessel_call_container",
    "booking_import", "dcsa_booking",
})
# Each organisation's own (keys, webhooks) or person's (notifications). The platform admin is one organisation in
# both test worlds, so its "other" object is its own there.
PRIVATE_SUBJECTS = frozenset({"api_key", "subscription", "dcsa_subscription", "delivery", "notification"})
