"""Settings for the test suite: the production settings with test-only secrets.

DATABASE_URL and REDIS_URL are honoured as in production, so CI runs the
suite against PostgreSQL and Redis.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("ALPR_VAR_DIR", tempfile.mkdtemp(prefix="alpr-test-var-"))

from .settings import *  # noqa: F403

# MD5 keeps the suite fast; PBKDF2 is there for users that the real stack's processes
# (which run the production settings) must be able to log in.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
# Unit tests run Celery tasks in-process; tests of the real stack start real workers.
CELERY_TASK_ALWAYS_EAGER = True
HOTLIST_REFRESH_SECONDS = 0  # tests change lists between reads: always check
