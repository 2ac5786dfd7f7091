"""The database triggers of the audit trail, for PostgreSQL and (as a fallback for `make run`) SQLite.

Status columns are watched by triggers rather than by the services, so a change made any way at all (a
service, the admin, QuerySet.update(), a bulk job, SQL by hand) is recorded. The audit table refuses UPDATE
and DELETE. `install()` is idempotent: the migration calls it, and so does post_migrate, because SQLite drops
a table's triggers when a migration rebuilds the table.
"""
# ruff: noqa: S608 - the SQL is built from the constant table and column names below, never from input.

# (object type, table, column naming the object, watched column, audit INSERTs too, provisional name prefix)
# A booking is inserted under a provisional reference and renamed in the same transaction (its reference follows
# its id): its first status is recorded when it gets its real reference, so the entry names it.
WATCHED = [
    ("booking", "bookings_booking", "reference", "status", False, "TMP-"),
    ("container", "bookings_container", "number", "status", True, ""),
    ("empty_request", "bookings_emptyrequest", "id", "status", True, ""),
    ("departure", "stations_departure", "reference", "status", False, ""),
    ("declaration", "customs_declaration", "reference", "status", True, ""),
    ("inspection", "customs_inspection", "declaration_id", "result", False, ""),
]

POSTGRES_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE FUNCTION audit_actor() RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE raw text := current_setting('intermodal.audit_actor', true);
BEGIN
    IF raw IS NULL OR raw = '' THEN RETURN '{}'::jsonb; END IF;
    RETURN raw::jsonb;
END $$;

CREATE OR REPLACE FUNCTION audit_write(p_action text, p_type text, p_ref text, p_field text, p_before jsonb,
                                       p_after jsonb, p_actor jsonb, p_org text, p_details jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_entry (at, action, object_type, object_ref, field, before, after, actor_user_id,
                             actor_username, api_key_prefix, organisation_code, ip_address, details)
    VALUES (clock_timestamp(), p_action, p_type, coalesce(p_ref, ''), coalesce(p_field, ''), p_before, p_after,
            (p_actor->>'user_id')::bigint, left(coalesce(p_actor->>'username', ''), 150),
            left(coalesce(p_actor->>'key', ''), 12),
            left(coalesce(nullif(p_actor->>'org', ''), p_org, ''), 50), left(coalesce(p_actor->>'ip', ''), 45),
            coalesce(p_details, '{}'::jsonb));
END $$;

CREATE OR REPLACE FUNCTION audit_customs_decision() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    declaration_ref text;
    organisation text;
BEGIN
    SELECT reference INTO declaration_ref FROM customs_declaration WHERE id = NEW.declaration_id;
    SELECT code INTO organisation FROM intermodal_organisation WHERE id = NEW.organisation_id;
    PERFORM audit_write('customs.decision', 'declaration', declaration_ref, 'decision', NULL,
                        jsonb_build_object('agency', NEW.agency, 'decision', NEW.kind, 'reason', NEW.reason),
                        audit_actor(), organisation, jsonb_build_object('officer_id', NEW.officer_id));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION audit_api_key() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE organisation text;
BEGIN
    SELECT code INTO organisation FROM intermodal_organisation WHERE id = NEW.organisation_id;
    IF TG_OP = 'INSERT' THEN
        PERFORM audit_write('key.created', 'api_key', NEW.prefix, 'scopes', NULL,
                            jsonb_build_object('scopes', NEW.scopes, 'expires_at', NEW.expires_at),
                            audit_actor(), organisation, jsonb_build_object('name', NEW.name));
        RETURN NULL;
    END IF;
    IF OLD.revoked_at IS DISTINCT FROM NEW.revoked_at THEN
        PERFORM audit_write('key.revoked', 'api_key', NEW.prefix, 'revoked_at',
                            jsonb_build_object('revoked_at', OLD.revoked_at),
                            jsonb_build_object('revoked_at', NEW.revoked_at), audit_actor(), organisation, NULL);
    END IF;
    IF OLD.last_used_at IS DISTINCT FROM NEW.last_used_at THEN
        -- The key is the actor of its own use (it is checked before the request knows who calls).
        PERFORM audit_write('key.used', 'api_key', NEW.prefix, 'last_used_at',
                            jsonb_build_object('last_used_at', OLD.last_used_at),
                            jsonb_build_object('last_used_at', NEW.last_used_at),
                            audit_actor() || jsonb_build_object('key', NEW.prefix, 'org', organisation),
                            organisation, NULL);
    END IF;
    RETURN NULL;
END $$;
"""


def _postgres_status_function(name: str, object_type: str, ref: str, column: str, provisional: str) -> str:
    """The trigger function of one watched status column: an entry when the status changes (or is first set),
    with the status before and after."""
    first_named = (
        f"starts_with(OLD.{ref}::text, '{provisional}') AND NOT starts_with(NEW.{ref}::text, '{provisional}')"
        if provisional else "false"
    )
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE is_insert boolean := TG_OP = 'INSERT';
BEGIN
    IF NOT is_insert THEN
        IF {first_named} THEN
            is_insert := true;  -- named for the first time: record its first status now
        ELSIF OLD.{column} IS NOT DISTINCT FROM NEW.{column} THEN
            RETURN NULL;
        END IF;
    END IF;
    PERFORM audit_write('status.change', '{object_type}', NEW.{ref}::text, '{column}',
                        CASE WHEN NOT is_insert THEN jsonb_build_object('{column}', OLD.{column}) END,
                        jsonb_build_object('{column}', NEW.{column}), audit_actor(), NULL, NULL);
    RETURN NULL;
END $$;
"""


def _postgres_statements() -> list[str]:
    statements = [POSTGRES_FUNCTIONS]
    for verb in ("UPDATE", "DELETE"):
        name = f"audit_entry_no_{verb.lower()}"
        statements += [
            f"DROP TRIGGER IF EXISTS {name} ON audit_entry",
            f"CREATE TRIGGER {name} BEFORE {verb} ON audit_entry FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
        ]
    for object_type, table, ref, column, on_insert, provisional in WATCHED:
        name = f"audit_{table}_{column}"
        events = "INSERT OR UPDATE" if on_insert else "UPDATE"
        # No column list or WHEN clause on the trigger: either would stop a later migration from altering the
        # column's type (a function body does not). The function reads the two columns it needs, so an UPDATE
        # that leaves the status alone (a train's new estimate: 1,000 of them in a feed's batch) costs a
        # comparison, not two rows turned into JSON.
        statements += [
            _postgres_status_function(name, object_type, ref, column, provisional),
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} AFTER {events} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
        ]
    # The generic function of earlier installs, which turned both rows into JSON on every UPDATE.
    statements.append("DROP FUNCTION IF EXISTS audit_column_change()")
    statements += [
        "DROP TRIGGER IF EXISTS audit_customs_decision ON customs_decision",
        "CREATE TRIGGER audit_customs_decision AFTER INSERT ON customs_decision FOR EACH ROW "
        "EXECUTE FUNCTION audit_customs_decision()",
        "DROP TRIGGER IF EXISTS audit_api_key ON intermodal_apikey",
        "CREATE TRIGGER audit_api_key AFTER INSERT OR UPDATE ON intermodal_apikey FOR EACH ROW "
        "EXECUTE FUNCTION audit_api_key()",
    ]
    return statements


# SQLite: the actor comes from audit_actor(), a function each connection registers (see context.py).
_SQLITE_COLUMNS = (
    "at, action, object_type, object_ref, field, before, after, actor_user_id, actor_username, api_key_prefix, "
    "organisation_code, ip_address, details"
)
_SQLITE_ACTOR = (
    "json_extract(audit_actor(), '$.user_id'), coalesce(json_extract(audit_actor(), '$.username'), ''), "
    "coalesce(json_extract(audit_actor(), '$.key'), ''), {org}, coalesce(json_extract(audit_actor(), '$.ip'), '')"
)
_SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def _sqlite_statements() -> list[str]:
    actor_org = "coalesce(json_extract(audit_actor(), '$.org'), '')"
    statements = []
    for verb in ("UPDATE", "DELETE"):
        name = f"audit_entry_no_{verb.lower()}"
        statements += [
            f"DROP TRIGGER IF EXISTS {name}",
            f"CREATE TRIGGER {name} BEFORE {verb} ON audit_entry "
            f"BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END",
        ]
    for object_type, table, ref, column, on_insert, provisional in WATCHED:
        values = (
            f"{_SQLITE_NOW}, 'status.change', '{object_type}', NEW.{ref}, '{column}', BEFORE_VALUE, "
            f"json_object('{column}', NEW.{column}), {_SQLITE_ACTOR.format(org=actor_org)}, '{{}}'"
        )
        before = f"json_object('{column}', OLD.{column})"
        created = values.replace("BEFORE_VALUE", "NULL")
        statements += [
            f"DROP TRIGGER IF EXISTS audit_{table}_{column}_update",
            f"CREATE TRIGGER audit_{table}_{column}_update AFTER UPDATE ON {table} "
            f"WHEN OLD.{column} IS NOT NEW.{column} BEGIN INSERT INTO audit_entry ({_SQLITE_COLUMNS}) "
            f"VALUES ({values.replace('BEFORE_VALUE', before)}); END",
            f"DROP TRIGGER IF EXISTS audit_{table}_{column}_insert",
        ]
        if on_insert:
            statements.append(
                f"CREATE TRIGGER audit_{table}_{column}_insert AFTER INSERT ON {table} "
                f"BEGIN INSERT INTO audit_entry ({_SQLITE_COLUMNS}) VALUES ({created}); END"
            )
        elif provisional:
            statements.append(
                f"CREATE TRIGGER audit_{table}_{column}_insert AFTER UPDATE ON {table} "
                f"WHEN OLD.{ref} LIKE '{provisional}%' AND NEW.{ref} NOT LIKE '{provisional}%' "
                f"BEGIN INSERT INTO audit_entry ({_SQLITE_COLUMNS}) VALUES ({created}); END"
            )
    decision_org = (
        "coalesce(json_extract(audit_actor(), '$.org'), "
        "(SELECT code FROM intermodal_organisation WHERE id = NEW.organisation_id), '')"
    )
    statements += [
        "DROP TRIGGER IF EXISTS audit_customs_decision",
        "CREATE TRIGGER audit_customs_decision AFTER INSERT ON customs_decision BEGIN "
        f"INSERT INTO audit_entry ({_SQLITE_COLUMNS}) VALUES ({_SQLITE_NOW}, 'customs.decision', 'declaration', "
        "(SELECT reference FROM customs_declaration WHERE id = NEW.declaration_id), 'decision', NULL, "
        "json_object('agency', NEW.agency, 'decision', NEW.kind, 'reason', NEW.reason), "
        f"{_SQLITE_ACTOR.format(org=decision_org)}, json_object('officer_id', NEW.officer_id)); END",
    ]
    key_org = "(SELECT code FROM intermodal_organisation WHERE id = NEW.organisation_id)"
    statements += [
        "DROP TRIGGER IF EXISTS audit_api_key_insert",
        "CREATE TRIGGER audit_api_key_insert AFTER INSERT ON intermodal_apikey BEGIN "
        f"INSERT INTO audit_entry ({_SQLITE_COLUMNS}) VALUES ({_SQLITE_NOW}, 'key.created', 'api_key', NEW.prefix, "
        "'scopes', NULL, json_object('scopes', json(NEW.scopes), 'expires_at', NEW.expires_at), "
        f"{_SQLITE_ACTOR.format(org=key_org)}, json_object('name', NEW.name)); END",
        "DROP TRIGGER IF EXISTS audit_api_key_revoked",
        "CREATE TRIGGER audit_api_key_revoked AFTER UPDATE ON intermodal_apikey "
        "WHEN OLD.revoked_at IS NOT NEW.revoked_at BEGIN "
        f"INSERT INTO audit_entry ({_SQLITE_COLUMNS}) VALUES ({_SQLITE_NOW}, 'key.revoked', 'api_key', NEW.prefix, "
        "'revoked_at', json_object('revoked_at', OLD.revoked_at), json_object('revoked_at', NEW.revoked_at), "
        f"{_SQLITE_ACTOR.format(org=key_org)}, '{{}}'); END",
        "DROP TRIGGER IF EXISTS audit_api_key_used",
        "CREATE TRIGGER audit_api_key_used AFTER UPDATE ON intermodal_apikey "
        "WHEN OLD.last_used_at IS NOT NEW.last_used_at BEGIN "
        f"INSERT INTO audit_entry ({_SQLITE_COLUMNS}) VALUES ({_SQLITE_NOW}, 'key.used', 'api_key', NEW.prefix, "
        "'last_used_at', json_object('last_used_at', OLD.last_used_at), "
        "json_object('last_used_at', NEW.last_used_at), NULL, '', NEW.prefix, "
        f"{key_org}, coalesce(json_extract(audit_actor(), '$.ip'), ''), '{{}}'); END",
    ]
    return statements


def install(connection) -> None:
    if connection.vendor == "postgresql":
        statements = _postgres_statements()
    elif connection.vendor == "sqlite":
        statements = _sqlite_statements()
    else:
        raise NotImplementedError(f"No audit triggers for {connection.vendor}")
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def reinstall_after_migrate(sender, using="default", plan=None, **kwargs):
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    recorder = MigrationRecorder(connection)
    if recorder.has_table() and recorder.migration_qs.filter(app="audit", name="0002_triggers").exists():
        install(connection)
