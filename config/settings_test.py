"""Settings for the test suite: the production settings with test-only secrets.

DATABASE_URL and REDIS_URL are honoured as in production, so CI runs the
suite against PostgreSQL and Redis.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("ALPR_VAR_DIR", tempfile.mkdtemp(prefix="alpr-test-var-"))

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Unit tests run Celery tasks in-process; tests of the real stack start real workers.
CELERY_TASK_ALWAYS_EAGER = True
