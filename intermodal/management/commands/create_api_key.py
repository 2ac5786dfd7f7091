"""Create an API key for an organisation and print it once: `create_api_key --org demo-railway`."""

from django.core.management.base import CommandError

from audit.context import ActingCommand
from intermodal.access import api_key_create
from intermodal.errors import ApplicationError
from intermodal.models import Organisation, Scope


class Command(ActingCommand):
    help = "Create an API key for an organisation. The key is printed once and stored only as a hash."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organisation code, e.g. demo-railway.")
        parser.add_argument("--name", default="", help="A name to tell the key apart (default: 'cli').")
        parser.add_argument(
            "--scopes", nargs="+", metavar="SCOPE",
            help=f"Scopes (default: the organisation's default scopes). Known: {', '.join(Scope.values)}",
        )

    def handle(self, *args, org, name, scopes, **options):
        organisation = Organisation.objects.filter(code=org).first()
        if organisation is None:
            raise CommandError(f"No organisation with code {org!r}.")
        try:
            key, raw = api_key_create(organisation=organisation, name=name or "cli", scopes=scopes)
        except ApplicationError as exc:
            raise CommandError("; ".join(m for msgs in exc.errors.values() for m in msgs) or exc.message) from exc
        self.stderr.write(f"Key {key.prefix} for {organisation.code} with scopes: {', '.join(key.scopes)}")
        self.stderr.write("Store it now: it is not shown again.")
        self.stdout.write(raw)
