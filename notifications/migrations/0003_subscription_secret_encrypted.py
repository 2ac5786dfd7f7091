# Subscription secrets encrypted at rest (issue 18, item 4): the column becomes text (a Fernet token is longer than
# the secret), then every secret still in clear is encrypted. Reversed, they are decrypted again.

from django.db import migrations

import guard.encryption
from guard import encryption


def _rows(schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT id, secret FROM notifications_subscription WHERE secret <> ''")
        return cursor.fetchall()


def _write(schema_editor, changes):
    with schema_editor.connection.cursor() as cursor:
        cursor.executemany("UPDATE notifications_subscription SET secret = %s WHERE id = %s", changes)


def encrypt_secrets(apps, schema_editor):
    # Raw SQL: the historical model's field would encrypt or decrypt on its own.
    _write(schema_editor, [(encryption.encrypt(secret), pk) for pk, secret in _rows(schema_editor)
                           if not encryption.is_encrypted(secret)])


def decrypt_secrets(apps, schema_editor):
    _write(schema_editor, [(encryption.decrypt(secret), pk) for pk, secret in _rows(schema_editor)
                           if encryption.is_encrypted(secret)])


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0002_container_left_behind'),
    ]

    operations = [
        migrations.AlterField(
            model_name='subscription',
            name='secret',
            field=guard.encryption.EncryptedTextField(editable=False, verbose_name='secret'),
        ),
        migrations.RunPython(encrypt_secrets, decrypt_secrets, elidable=False),
    ]
