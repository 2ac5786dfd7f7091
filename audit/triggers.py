"""The PostgreSQL triggers of the audit trail.

Status columns are watched by triggers rather than by the services, so a change made any way at all (a
service, the admin, QuerySet.update(), a bulk job, SQL by hand) is recorded. The audit table refuses UPDATE
and DELETE (but the retention job's DELETE of entries older than the cutoff it sets for its own transaction,
RETENTION_PERMIT, see retention/pruning.py). The actor is the transaction's setting `intermodal.audit_actor`
(see context.py).

`install()` is idempotent (CREATE OR REPLACE, DROP ... IF EXISTS): migration 0002 calls it, and so does every
`migrate` afterwards (post_migrate), so a function edited here reaches every existing database without a
migration of its own.
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

# Run in each of the retention job's transactions: entries older than its cutoff may then be deleted, in that
# transaction only (set_config(..., true) is transaction-local).
RETENTION_PERMIT = "SELECT set_config('intermodal.audit_retention_before', %(cutoff)s::text, true)"

# An entry's columns, and its actor's columns from the actor's JSON (the statement's `intermodal.audit_actor`):
# written by audit_write for one entry, and by the status triggers for a statement's entries together.
_ENTRY_COLUMNS = ("at, action, object_type, object_ref, field, before, after, actor_user_id, actor_username, "
                  "api_key_prefix, organisation_code, ip_address, details")


def _actor_values(actor: str, organisation: str) -> str:
    return (f"({actor}->>'user_id')::bigint, left(coalesce({actor}->>'username', ''), 150), "
            f"left(coalesce({actor}->>'key', ''), 12), "
            f"left(coalesce(nullif({actor}->>'org', ''), {organisation}, ''), 50), "
            f"left(coalesce({actor}->>'ip', ''), 45)")


AUDIT_WRITE = f"""
CREATE OR REPLACE FUNCTION audit_write(p_action text, p_type text, p_ref text, p_field text, p_before jsonb,
                                       p_after jsonb, p_actor jsonb, p_org text, p_details jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_entry ({_ENTRY_COLUMNS})
    VALUES (clock_timestamp(), p_action, p_type, coalesce(p_ref, ''), coalesce(p_field, ''), p_before, p_after,
            {_actor_values("p_actor", "p_org")}, coalesce(p_details, '{{}}'::jsonb));
END $$;
"""

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE cutoff text := current_setting('intermodal.audit_retention_before', true);
BEGIN
    -- The retention job alone removes entries, only those older than the cutoff it names in its transaction.
    IF TG_OP = 'DELETE' AND cutoff IS NOT NULL AND cutoff <> '' AND OLD.at < cutoff::timestamptz THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE FUNCTION audit_actor() RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE raw text := current_setting('intermodal.audit_actor', true);
BEGIN
    IF raw IS NULL OR raw = '' THEN RETURN '{}'::jsonb; END IF;
    RETURN raw::jsonb;
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


def _entry_values(object_type: str, ref: str, column: str, before: str) -> str:
    """A status change's entry from a statement's row `n` (the actor read once into `actor`)."""
    return (f"clock_timestamp(), 'status.change', '{object_type}', coalesce(n.{ref}::text, ''), '{column}', "
            f"{before}, jsonb_build_object('{column}', n.{column}), {_actor_values('actor', 'NULL')}, '{{}}'::jsonb")


def _status_function(name: str, object_type: str, ref: str, column: str, provisional: str) -> str:
    """The trigger function of one watched status column, run once per statement over the rows it wrote (its
    transition tables): an entry for each row whose status changed (or was first set), with the status before
    and after, all written by one INSERT. Run for each row, it cost an ingested list a call, a reading of the
    actor and an INSERT per container (P1, docs/PERFORMANCE.md)."""
    first_named = (
        f"(starts_with(o.{ref}::text, '{provisional}') AND NOT starts_with(n.{ref}::text, '{provisional}'))"
        if provisional else "false"
    )
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE actor jsonb := audit_actor();
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_entry ({_ENTRY_COLUMNS})
        SELECT {_entry_values(object_type, ref, column, "NULL")} FROM new_rows n ORDER BY n.id;
    ELSE
        -- Named for the first time: its first status is recorded now, with nothing before it.
        INSERT INTO audit_entry ({_ENTRY_COLUMNS})
        SELECT {_entry_values(object_type, ref, column,
                              f"CASE WHEN NOT {first_named} THEN jsonb_build_object('{column}', o.{column}) END")}
          FROM new_rows n JOIN old_rows o ON o.id = n.id
         WHERE {first_named} OR o.{column} IS DISTINCT FROM n.{column}
         ORDER BY n.id;
    END IF;
    RETURN NULL;
END $$;
"""


def _statements() -> list[str]:
    statements = [FUNCTIONS, AUDIT_WRITE]
    for verb in ("UPDATE", "DELETE"):
        name = f"audit_entry_no_{verb.lower()}"
        statements += [
            f"DROP TRIGGER IF EXISTS {name} ON audit_entry",
            f"CREATE TRIGGER {name} BEFORE {verb} ON audit_entry FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
        ]
    for object_type, table, ref, column, on_insert, provisional in WATCHED:
        name = f"audit_{table}_{column}"
        # No column list or WHEN clause on the trigger: either would stop a later migration from altering the
        # column's type (a function body does not). The function compares the two columns it needs, so an UPDATE
        # that leaves the status alone (a train's new estimate: 1,000 of them in a feed's batch) writes nothing.
        # A trigger with transition tables takes one event: inserts have their own.
        statements += [
            _status_function(name, object_type, ref, column, provisional),
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
            f"DROP TRIGGER IF EXISTS {name}_insert ON {table}",
        ]
        if on_insert:
            statements.append(f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
                              f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
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


def install(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _statements():
            cursor.execute(statement)


def reinstall_after_migrate(sender, using="default", plan=None, **kwargs):
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    recorder = MigrationRecorder(connection)
    if recorder.has_table() and recorder.migration_qs.filter(app="audit", name="0002_triggers").exists():
        install(connection)
