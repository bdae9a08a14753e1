from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .services import append, client_ip


@receiver(user_logged_in)
def log_login(sender, request, user, **kwargs):
    append(action="login", user=user, ip=client_ip(request))


@receiver(user_login_failed)
def log_failed_login(sender, credentials, request=None, **kwargs):
    append(action="login.failed", username=str(credentials.get("username", ""))[:150], ip=client_ip(request))
