from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def create_role_groups(sender, **kwargs):
    """Every migrate leaves the officer/admin/auditor groups with their permissions."""
    # Runs after each app's migrations (and after test flushes), because the
    # permissions of later apps only exist once their own post_migrate ran.
    from .services import do_sync_role_groups

    do_sync_role_groups()


#: Session key: the user logged in with a password an admin reset, and must choose a new one first.
MUST_CHANGE_PASSWORD = "alpr_must_change_password"


@receiver(user_logged_in)
def remember_a_pending_password_change(sender, request, user, **kwargs):
    """Checked once at login (a reset ends every open session), so no page pays a query for it."""
    from .models import Security

    if request is not None and hasattr(request, "session"):
        if Security.objects.filter(user=user, must_change_password=True).exists():
            request.session[MUST_CHANGE_PASSWORD] = True
        else:
            request.session.pop(MUST_CHANGE_PASSWORD, None)
