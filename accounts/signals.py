from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def create_role_groups(sender, **kwargs):
    """Every migrate leaves the officer/admin/auditor groups with their permissions."""
    # Runs after each app's migrations (and after test flushes), because the
    # permissions of later apps only exist once their own post_migrate ran.
    from .services import do_sync_role_groups

    do_sync_role_groups()
