"""The one registry of event vocabulary, after DCSA Track & Trace 2.2.0.

Codes of the 2.2.0 enums are what the DCSA endpoint may emit. The newer DCSA reference lists add a few we
need (AVPU: empty available for pick-up; CANC: booking cancelled), and the platform adds one of its own (MISS:
a container left behind when its train or vessel left without it); those are stored like any other code and
left out of DCSA 2.2.0 responses.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    SHIPMENT = "SHIPMENT", _("Shipment")
    TRANSPORT = "TRANSPORT", _("Transport")
    EQUIPMENT = "EQUIPMENT", _("Equipment")


class Classifier(models.TextChoices):
    PLANNED = "PLN", _("Planned")
    ESTIMATED = "EST", _("Estimated")
    ACTUAL = "ACT", _("Actual")


class EquipmentCode(models.TextChoices):
    LOAD = "LOAD", _("Loaded")
    DISC = "DISC", _("Discharged")
    GTIN = "GTIN", _("Gated in")
    GTOT = "GTOT", _("Gated out")
    STUF = "STUF", _("Stuffed")
    STRP = "STRP", _("Stripped")
    PICK = "PICK", _("Picked up")
    DROP = "DROP", _("Dropped off")
    INSP = "INSP", _("Inspected")
    RSEA = "RSEA", _("Resealed")
    RMVD = "RMVD", _("Seal removed")
    AVPU = "AVPU", _("Available for pick-up")
    MISS = "MISS", _("Left behind: missed its train or vessel")


class TransportCode(models.TextChoices):
    ARRI = "ARRI", _("Arrived")
    DEPA = "DEPA", _("Departed")


class ShipmentCode(models.TextChoices):
    RECE = "RECE", _("Received")
    DRFT = "DRFT", _("Drafted")
    PENA = "PENA", _("Pending approval")
    PENU = "PENU", _("Pending update")
    REJE = "REJE", _("Rejected")
    APPR = "APPR", _("Approved")
    ISSU = "ISSU", _("Issued")
    SURR = "SURR", _("Surrendered")
    SUBM = "SUBM", _("Submitted")
    VOID = "VOID", _("Void")
    CONF = "CONF", _("Confirmed")
    REQS = "REQS", _("Requested")
    CMPL = "CMPL", _("Completed")
    HOLD = "HOLD", _("On hold")
    RELS = "RELS", _("Released")
    CANC = "CANC", _("Cancelled")


class DocumentType(models.TextChoices):
    CBR = "CBR", _("Carrier booking request")
    BKG = "BKG", _("Booking")
    SHI = "SHI", _("Shipping instruction")
    SRM = "SRM", _("Shipment release message")
    TRD = "TRD", _("Transport document")
    ARN = "ARN", _("Arrival notice")
    VGM = "VGM", _("Verified gross mass")
    CAS = "CAS", _("Cargo survey")
    CUS = "CUS", _("Customs")
    DGD = "DGD", _("Dangerous goods declaration")
    OOG = "OOG", _("Out of gauge")


class ModeOfTransport(models.TextChoices):
    VESSEL = "VESSEL", _("Vessel")
    RAIL = "RAIL", _("Rail")
    TRUCK = "TRUCK", _("Truck")
    BARGE = "BARGE", _("Barge")


class EmptyIndicator(models.TextChoices):
    EMPTY = "EMPTY", _("Empty")
    LADEN = "LADEN", _("Laden")


class FacilityKind(models.TextChoices):
    STATION = "station", _("Inland station")
    TERMINAL = "terminal", _("Port terminal")


CODES_BY_TYPE: dict[str, frozenset[str]] = {
    EventType.EQUIPMENT: frozenset(EquipmentCode.values),
    EventType.TRANSPORT: frozenset(TransportCode.values),
    EventType.SHIPMENT: frozenset(ShipmentCode.values),
}

# Codes outside the DCSA 2.2.0 enums: stored and shown, never emitted on the DCSA endpoint.
NOT_IN_DCSA_220 = frozenset({"AVPU", "CANC", "MISS"})
