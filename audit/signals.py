from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .models import AuditLog


@receiver(user_logged_in)
def log_login(sender, request, user, **kwargs):
    AuditLog.objects.create(user=user, username=user.get_username(), action="login",
                            ip=request.META.get("REMOTE_ADDR") if request else None)


@receiver(user_login_failed)
def log_failed_login(sender, credentials, request=None, **kwargs):
    AuditLog.objects.create(user=None, username=str(credentials.get("username", ""))[:150], action="login.failed",
                            ip=request.META.get("REMOTE_ADDR") if request else None)
