"""Re-encrypt every subscription secret with the first of SECRETS_ENCRYPTION_KEYS (after a new key was put first),
so the old key can then be dropped. Safe to run again; prints how many secrets it re-encrypted, never a secret."""

from django.db import connection, transaction

from audit.context import ActingCommand
from guard import encryption
from notifications.models import Subscription


class Command(ActingCommand):
    help = "Re-encrypt the webhook and DCSA subscription secrets with the first key of SECRETS_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        table = Subscription._meta.db_table
        with transaction.atomic(), connection.cursor() as cursor:
            # The stored tokens as they are (the model's field would decrypt them), locked while they change.
            cursor.execute(f"SELECT id, secret FROM {table} WHERE secret <> '' FOR UPDATE")  # noqa: S608 - model table
            changes = [(encryption.rotate(token), pk) for pk, token in cursor.fetchall()]
            cursor.executemany(f"UPDATE {table} SET secret = %s WHERE id = %s", changes)  # noqa: S608
        self.stdout.write(f"{len(changes)} subscription secrets re-encrypted with the first key.")
