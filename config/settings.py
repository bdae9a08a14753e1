"""Django settings, all read from the environment.

Nothing set: SQLite, in-memory channel layer, Celery tasks run eagerly in the
web process. DATABASE_URL switches to PostgreSQL (psycopg 3), REDIS_URL to a
Redis broker/result backend and channels-redis. See .env.example.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str, env_time_zone
from .storage import media_storage

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ALPR_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-used-only-with-DEBUG-on"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    if not DEBUG:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off (comma separated).")
    ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "accounts",
    "cameras",
    "recognition",
    "hotlist",
    "alerts",
    "audit",
    "deliveries",
    "oversight",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "frontend.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "accounts.login.RequireAdminTotpMiddleware",
    "accounts.login.RequirePasswordChangeMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
                "config.clock.context",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
    if not DATABASES["default"]["ENGINE"].endswith(("postgresql", "sqlite3")):
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://...) or SQLite.")
    # Daphne runs each request's database work on a thread of its own, so persistent connections
    # (CONN_MAX_AGE > 0) pile up one per thread, and a burst opens one per request. A psycopg pool
    # per process bounds them: at most DB_POOL_MAX_SIZE connections, a request beyond that waits up to
    # DB_POOL_TIMEOUT seconds for one. DB_POOL_MAX_SIZE=0 turns pooling off (then DB_CONN_MAX_AGE applies).
    DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 10)
    if DATABASES["default"]["ENGINE"].endswith("postgresql") and DB_POOL_MAX_SIZE > 0:
        if DATABASES["default"]["CONN_MAX_AGE"]:
            raise ImproperlyConfigured(
                "DB_CONN_MAX_AGE applies without the pool only: set DB_POOL_MAX_SIZE=0 to use it, or leave it unset."
            )
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 0,  # idle connections close after max_idle; Celery closes a worker's pool after each task
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": env_int("DB_POOL_TIMEOUT", 20),
            "max_idle": 60,
        }
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # the pool replaces a connection broken by a restart
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",  # type: ignore[typeddict-item]  # Django takes a Path; the stub says str
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker/results, channel layer, cache ---------------------
REDIS_URL = env_str("REDIS_URL")
# Several deployments (or test stacks) may share one Redis: each keeps its own task queue,
# channel-layer keys and cache keys under ALPR_INSTANCE.
ALPR_INSTANCE = env_str("ALPR_INSTANCE", "")
CELERY_TASK_DEFAULT_QUEUE = f"alpr-{ALPR_INSTANCE}" if ALPR_INSTANCE else "celery"
if REDIS_URL:
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff

    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 defaults socket_timeout to 5 s, which aborts channels-redis' blocking BZPOPMIN
            # (and with it every websocket) every 5 s; 30 s still notices a dead connection.
            # Its async connections retry nothing by default: after a Redis restart the first command on each
            # pooled connection failed (a 500 for the first websocket); now it reconnects and retries.
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 30,
                        "socket_connect_timeout": 5,
                        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
                    }
                ],
                "capacity": 1000,
                "expiry": 30,
                "prefix": f"asgi-{ALPR_INSTANCE}" if ALPR_INSTANCE else "asgi",
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": ALPR_INSTANCE,
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Short timeouts: with Redis away, ingest stores the frame and answers at once (beat requeues it later).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 600, "socket_connect_timeout": 2, "socket_timeout": 10}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_IGNORE_RESULT = True

# --- Auth -------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_SAVE_EVERY_REQUEST = True  # SESSION_COOKIE_AGE counts from the last request: idle sessions expire
LOGIN_FAILURES_PER_USER = env_int("LOGIN_FAILURES_PER_USER", 5)
LOGIN_FAILURES_PER_IP = env_int("LOGIN_FAILURES_PER_IP", 20)
LOGIN_SECOND_FACTOR_FAILURES = env_int("LOGIN_SECOND_FACTOR_FAILURES", 5)
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900)
# Audit chain: records are HMAC-SHA256 chained under this key, which the database never holds (empty: derived
# from SECRET_KEY, so changing SECRET_KEY then breaks verification: set it on its own to rotate SECRET_KEY).
AUDIT_HMAC_KEY = env_str("AUDIT_HMAC_KEY", "")
# The signed checkpoint of the chain's head, outside the database (shared by every process that logs):
# this file on local disk; with S3_BUCKET set, objects under audit/checkpoint/ in the bucket instead.
AUDIT_CHECKPOINT_PATH = env_str("AUDIT_CHECKPOINT_PATH", str(VAR_DIR / "audit" / "checkpoint.json"))

# --- Transport security -------------------------------------------------------
# Production (DEBUG off) is meant to be served over HTTPS, usually behind a TLS proxy: cookies are
# Secure and browsers are told to stay on HTTPS (HSTS, sent on HTTPS requests only). The demo
# (DEBUG on, plain http on 127.0.0.1) keeps them off. For a trial over plain http with DEBUG off,
# set SECURE_COOKIES=0.
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
# Behind a TLS proxy: the header the proxy sets to "https" (e.g. X-Forwarded-Proto), so that Django
# knows the request was secure. Set it only when the proxy always sets (or strips) that header.
_PROXY_SSL_HEADER = env_str("SECURE_PROXY_SSL_HEADER", "")
if _PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _PROXY_SSL_HEADER.strip().upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Scripts and styles from this site only (frontend/security.py); off only to debug a page.
CONTENT_SECURITY_POLICY = env_bool("CONTENT_SECURITY_POLICY", True)

# --- I18N -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
# The agency's time zone (an IANA name such as America/New_York): every page, export and live card
# shows times in it with the zone named, and times typed into forms (search range, expiries) are
# taken in it. AGENCY_TIME_ZONE wins over TIME_ZONE; both default to UTC.
TIME_ZONE = env_time_zone("AGENCY_TIME_ZONE", env_time_zone("TIME_ZONE", "UTC"))
USE_I18N = True
USE_TZ = True
# Date formats with the zone shown (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]

# --- Files ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "frontend" / "static"]
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# Frames, thumbnails, crops and uploaded videos: MEDIA_ROOT, or the S3-compatible bucket S3_BUCKET
# (S3_ENDPOINT_URL, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION); see config/storage.py.
STORAGES = {
    "default": media_storage(os.environ),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Frame ingest limits (see cameras/ingest.py).
ALPR_MAX_UPLOAD_BYTES = env_int("ALPR_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
ALPR_MAX_PIXELS = env_int("ALPR_MAX_PIXELS", 40_000_000)
# A frame's captured_at may be this far in the past (buffered uploads) or the future (clock skew); else 400.
ALPR_CAPTURED_AT_PAST_DAYS = env_int("ALPR_CAPTURED_AT_PAST_DAYS", 30)
ALPR_CAPTURED_AT_FUTURE_SECONDS = env_int("ALPR_CAPTURED_AT_FUTURE_SECONDS", 300)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
# Hotlist uploads may be large; they are streamed to a temporary file.
ALPR_MAX_HOTLIST_BYTES = env_int("ALPR_MAX_HOTLIST_BYTES", 200 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}

# Beat's jobs; `manage.py check` (config/celery.py, ids celery.E00x) refuses a schedule whose task is
# unknown or whose time limits Celery would reject when sending it.
# A frame accepted while the broker was away is sent again by requeue-stale-frames once it has waited
# FRAME_LOST_AFTER_SECONDS: with the defaults, within about 90 s of the broker's return.
FRAME_LOST_AFTER_SECONDS = env_int("FRAME_LOST_AFTER_SECONDS", 60)
FRAME_REQUEUE_INTERVAL_SECONDS = env_int("FRAME_REQUEUE_INTERVAL_SECONDS", 30)
# A worker that finds other frames queued takes up to FRAME_BATCH_SIZE at once (as many as it prepares in
# FRAME_BATCH_MS by its own average) and stores them in one transaction (recognition/services.py).
FRAME_BATCH_SIZE = env_int("FRAME_BATCH_SIZE", 64)
FRAME_BATCH_MS = env_int("FRAME_BATCH_MS", 100)
if FRAME_BATCH_SIZE < 1 or FRAME_BATCH_MS < 0:
    raise ImproperlyConfigured("FRAME_BATCH_SIZE must be 1 or more and FRAME_BATCH_MS 0 or more.")
CAMERA_HEALTH_INTERVAL_SECONDS = env_int("CAMERA_HEALTH_INTERVAL_SECONDS", 60)
CELERY_BEAT_SCHEDULE = {
    "requeue-stale-frames": {
        "task": "recognition.requeue_stale_frames",
        "schedule": float(FRAME_REQUEUE_INTERVAL_SECONDS),
    },
    "purge-retention": {"task": "audit.purge_retention", "schedule": 3600.0},
    "camera-health": {"task": "cameras.check_health", "schedule": float(CAMERA_HEALTH_INTERVAL_SECONDS)},
    "create-partitions": {"task": "recognition.create_partitions", "schedule": 3600.0},
}
# PostgreSQL: beat creates the day partitions of frames and reads this many days ahead.
PARTITION_DAYS_AHEAD = env_int("PARTITION_DAYS_AHEAD", 7)

# A new BOLO is checked against the reads of at most this many past hours (0: none), not its list's window:
# a BOLO is for finding a car now, not a week of any plate's movements without a logged search.
BOLO_HISTORY_HOURS = env_int("BOLO_HISTORY_HOURS", 4)
# Workers check for changed hotlists at most this often (seconds); 0: before every batch of reads, so a list
# change (a BOLO) alerts on the very next frame processed after it is saved.
HOTLIST_REFRESH_SECONDS = float(env_str("HOTLIST_REFRESH_SECONDS", "0"))
# Reads of the same entry at the same camera within this many seconds are one vehicle pass: one alert.
ALERT_DEDUP_SECONDS = env_int("ALERT_DEDUP_SECONDS", 120)

# Alert deliveries away from the dashboard (deliveries/): email through Django's email backend,
# webhooks signed with HMAC-SHA256. Links in them start with ALPR_BASE_URL.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "alpr-alerts@localhost")
ALPR_BASE_URL = env_str("ALPR_BASE_URL", "")
# Street tiles under the auditor's camera map, e.g. https://tiles.example.org/{z}/{x}/{y}.png (none: a plain grid).
SEARCH_MAP_TILE_URL = env_str("SEARCH_MAP_TILE_URL", "")
DELIVERY_TIMEOUT_SECONDS = env_int("DELIVERY_TIMEOUT_SECONDS", 5)
DELIVERY_RETRY_BASE_SECONDS = env_int("DELIVERY_RETRY_BASE_SECONDS", 10)
PLATE_EVENT_GAP_SECONDS = env_int("PLATE_EVENT_GAP_SECONDS", 5)
