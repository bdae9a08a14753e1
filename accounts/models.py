from django.conf import settings
from django.db import models


class Security(models.Model):
    """A user's second factor."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="security")
    totp_secret = models.CharField(max_length=64, blank=True)
    totp_enabled = models.BooleanField(default=False)
    totp_last_step = models.BigIntegerField(null=True, blank=True)
    must_change_password = models.BooleanField(default=False, help_text="Set by an admin's reset: the user "
                                                                        "chooses a new password at the next login.")

    @classmethod
    def of(cls, user) -> "Security":
        return cls.objects.get_or_create(user=user)[0]


class AgencySecurity(models.Model):
    """Agency-wide login rules (one row)."""

    require_totp_for_admins = models.BooleanField(default=False)

    @classmethod
    def current(cls) -> "AgencySecurity":
        return cls.objects.get_or_create(pk=1)[0]
