"""Bookings in bulk from a CSV file: every row through `booking_create`, all or nothing.

A worker runs an import in two passes. First each row is tried on its own and rolled back (the same checks a
booking made in the wizard meets: departure open, capacity, cut-offs, dangerous goods, destination), the
progress written after each row so the page can show it; a bad row is reported with its field messages and the
others are still checked, so one run lists every bad row. Only when no row is bad are all rows made again in
one transaction, which commits them together or not at all (a departure filled meanwhile, or two rows that
each fit but not both, fail it whole and are reported the same way).
"""

import csv
import io
from decimal import Decimal, InvalidOperation

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from bookings.models import BookingImport, ImportStatus
from bookings.services import booking_create, parse_container_request
from guard.text import is_ascii_number, normalise_code, text_problem
from intermodal.access import Actor
from intermodal.errors import ApplicationError, InvalidInput, NotAllowed
from intermodal.models import PartyKind
from stations.models import Departure, Location, VesselCall

COLUMNS = ["departure", "vessel_call", "destination", "containers", "commodity", "cargo_weight_kg", "un_number",
           "imdg_class", "reefer_setpoint_c", "reefer_ventilation_cbm_h", "free_days", "confirm"]
REQUIRED = ["departure", "vessel_call", "destination", "containers", "commodity", "cargo_weight_kg"]
MAX_ROWS = 500
MAX_BYTES = 1_000_000
TRUE = {"yes", "y", "true", "1", "是"}
FALSE = {"no", "n", "false", "0", "", "否"}


class _DryRun(Exception):
    """Raised inside a row's transaction to roll it back once the row has passed."""


def template_rows() -> list[list[str]]:
    return [COLUMNS, ["YIWU-W-BLG-R-20261201", "9811000-123W", "NLRTM", "42G1:2", "Christmas decorations", "18000",
                      "", "", "", "", "7", "yes"]]


def parse(content: str) -> list[dict]:
    """The rows of the file as dicts; refuses a file without the required columns or with too many rows."""
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise InvalidInput(errors={"file": [_("The file lacks the columns %(columns)s (the first row names them).")
                                            % {"columns": ", ".join(missing)}]})
    unknown = [name for name in header if name and name not in COLUMNS]
    if unknown:
        raise InvalidInput(errors={"file": [_("Unknown columns: %(columns)s.") % {"columns": ", ".join(unknown)}]})
    reader.fieldnames = header
    rows = [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
    rows = [row for row in rows if any(row.values())]
    if not rows:
        raise InvalidInput(errors={"file": [_("The file has no bookings under its header.")]})
    if len(rows) > MAX_ROWS:
        raise InvalidInput(errors={"file": [_("At most %(n)s bookings per file.") % {"n": MAX_ROWS}]})
    return rows


def booking_import_create(*, actor: Actor, file_name: str, data: bytes) -> BookingImport:
    """Keep an uploaded file to import; the worker is started once this is committed."""
    if actor.kind != PartyKind.ENTERPRISE:
        raise NotAllowed(_("Only a shipper or forwarder organisation can book."), code="not_a_shipper")
    if len(data) > MAX_BYTES:
        raise InvalidInput(errors={"file": [_("The file is larger than 1 MB.")]})
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(errors={"file": [_("Save the file as CSV in UTF-8.")]}) from None
    problem = text_problem(content, multiline=True)  # the text policy: no NUL or control character in any cell
    if problem:
        raise InvalidInput(errors={"file": [problem]})
    rows = parse(content)
    job = BookingImport.objects.create(organisation=actor.organisation, created_by=actor.user, file_name=file_name,
                                       content=content, total_rows=len(rows))
    transaction.on_commit(lambda: booking_import_task.delay(job.pk))
    return job


def _decimal(value: str, name: str, errors: dict) -> Decimal | None:
    if not value:
        return None
    if not is_ascii_number(value.replace(",", "")):
        errors[name] = [_("Write a number, e.g. 18000.")]
        return None
    try:
        return Decimal(value.replace(",", ""))
    except InvalidOperation:
        errors[name] = [_("Write a number, e.g. 18000.")]
        return None


def _integer(value: str, name: str, errors: dict) -> int | None:
    if not value:
        return None
    if not (value.isascii() and value.isdigit()):
        errors[name] = [_("Write a whole number.")]
        return None
    return int(value)


def row_arguments(row: dict) -> dict:
    """A row as the arguments of `booking_create`; the references must name existing rows."""
    errors: dict[str, list[str]] = {}
    for name in REQUIRED:
        if not row.get(name):
            errors[name] = [_("This field is required.")]
    departure = Departure.objects.select_related("service__station", "service__terminal").filter(
        reference=row.get("departure", "")).first()
    if row.get("departure") and departure is None:
        errors["departure"] = [_("No departure %(ref)s.") % {"ref": row["departure"]}]
    vessel_call = VesselCall.objects.select_related("terminal").filter(reference=row.get("vessel_call", "")).first()
    if row.get("vessel_call") and vessel_call is None:
        errors["vessel_call"] = [_("No vessel call %(ref)s.") % {"ref": row["vessel_call"]}]
    destination = Location.objects.filter(unlocode=normalise_code(row.get("destination", ""))).first()
    if row.get("destination") and destination is None:
        errors["destination"] = [_("No port %(code)s.") % {"code": row["destination"]}]
    lines = {}
    if row.get("containers"):
        try:
            lines = parse_container_request(row["containers"])
        except InvalidInput as error:
            errors.update(error.errors)
    weight = _decimal(row.get("cargo_weight_kg", ""), "cargo_weight_kg", errors)
    setpoint = _decimal(row.get("reefer_setpoint_c", ""), "reefer_setpoint_c", errors)
    ventilation = _integer(row.get("reefer_ventilation_cbm_h", ""), "reefer_ventilation_cbm_h", errors)
    free_days = _integer(row.get("free_days", ""), "free_days", errors)
    confirm = row.get("confirm", "").lower()
    if confirm not in TRUE | FALSE:
        errors["confirm"] = [_("Write yes or no.")]
    if len(row.get("commodity", "")) > 200:
        errors["commodity"] = [_("At most %(n)s characters.") % {"n": 200}]
    if errors:
        raise InvalidInput(errors=errors)
    arguments = {
        "departure": departure, "vessel_call": vessel_call, "destination": destination, "lines": lines,
        "commodity": row["commodity"], "cargo_weight_kg": weight, "un_number": normalise_code(row.get("un_number", "")),
        "imdg_class": row.get("imdg_class", ""), "reefer_setpoint_c": setpoint,
        "reefer_ventilation_cbm_h": ventilation, "confirm": confirm in TRUE,
    }
    if free_days is not None:
        arguments["free_days"] = free_days
    return arguments


def _row_errors(number: int, error: ApplicationError) -> dict:
    errors = {field: [str(m) for m in messages] for field, messages in error.errors.items()}
    if not errors:
        errors = {"booking": [str(error.message)]}
    return {"row": number, "errors": errors}


def _set(job: BookingImport, **fields) -> None:
    BookingImport.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


def booking_import_run(*, job_id: int) -> BookingImport:
    """Run an import: check every row, then make them all in one transaction, or none."""
    with transaction.atomic():
        job = (BookingImport.objects.select_for_update(of=("self",)).select_related("organisation", "created_by")
               .get(pk=job_id))
        if job.status != ImportStatus.QUEUED:  # a redelivered task: the first run owns it
            return job
        _set(job, status=ImportStatus.VALIDATING, started_at=timezone.now())
    actor = Actor(organisation=job.organisation, user=job.created_by)
    rows = parse(job.content)
    bad = []
    for index, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            with transaction.atomic():
                booking_create(actor=actor, **row_arguments(row))
                raise _DryRun
        except _DryRun:
            pass
        except ApplicationError as error:
            bad.append(_row_errors(index, error))
        _set(job, processed_rows=index - 1)
    if bad:
        _set(job, status=ImportStatus.FAILED, errors=bad, finished_at=timezone.now())
        return job
    _set(job, status=ImportStatus.SAVING)
    created, failed = [], None
    try:
        with transaction.atomic():
            for index, row in enumerate(rows, start=2):
                try:
                    created.append(booking_create(actor=actor, **row_arguments(row)).reference)
                except ApplicationError as error:
                    failed = _row_errors(index, error)
                    raise
    except ApplicationError:
        _set(job, status=ImportStatus.FAILED, errors=[failed], finished_at=timezone.now())
        return job
    _set(job, status=ImportStatus.DONE, created_references=created, finished_at=timezone.now())
    return job


@shared_task(name="bookings.tasks.booking_import_run")
def booking_import_task(job_id: int) -> str:
    """The worker's side of an import (kept under its first task name, which queued messages carry)."""
    return booking_import_run(job_id=job_id).status
