from django.conf import settings
from django.db import models


class Security(models.Model):
    """A user's second factor."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="security")
    totp_secret = models.CharField(max_length=64, blank=True)
    totp_enabled = models.BooleanField(default=False)
    totp_last_step = models.BigIntegerField(null=True, blank=True)
    must_change_password = models.BooleanField(
        default=False, help_text="Set by an admin's reset: the user chooses a new password at the next login."
    )

    @classmethod
    def of(cls, user) -> "Security":
        return cls.objects.get_or_create(user=user)[0]


class AgencySecurity(models.Model):
    """Agency-wide login rules (one row)."""

    require_totp_for_admins = models.BooleanField(default=False)

    @classmethod
    def current(cls) -> "AgencySecurity":
        return cls.objects.get_or_create(pk=1)[0]


class LoginThrottle(models.Model):
    """Failed attempts of one kind for one key (a user name, an address, a user's second factor).

    Kept in the database, not the cache: the count is taken under a row lock before a password or code
    is checked, so concurrent guesses cannot pass the limit, and logins work while Redis is down.
    """

    key = models.CharField(max_length=200, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"
