from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import ROLES
from accounts.services import do_create_user, generate_password


class Command(BaseCommand):
    help = "Create a user with a role; prints a generated password unless --password is given."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default=None)

    def handle(self, *args, username, role, email, password, **opts):
        generated = password is None
        password = password or generate_password()
        try:
            do_create_user(username, password, role, email=email)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except Exception as exc:  # e.g. the name is taken
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created {role} {username}." + (f" Password: {password}" if generated else ""))
