"""The answer to a CODECO/COARRI interchange as APERAK (D.95B): one message per message answered.

BGM: the answered message's document code and number, and 29 (accepted without amendment) when every container
of it was applied, 27 (not accepted) otherwise; RFF+ACW: the answered message's reference (UNH 0062). Each
container that was not applied is an ERC group: ERC with the status of the JSON answer (409 a step that does
not follow, 403 not this party's to report, 404 unknown, 422 not supported here, 400 not valid; list ZZZ), and
FTX+AAO with the container number and the reason in English. A container not named was applied.
"""

from django.utils import timezone

from edi.edifact import MUTUALLY_DEFINED, ascii_text, edifact_datetime, interchange_new, message_new, segment, serialize

ACCEPTED, NOT_ACCEPTED = "29", "27"
# FTX C108: five pieces of text of at most 70 characters each: the container number, then the reason.
TEXT_PIECE, TEXT_PIECES = 70, 4


def _pieces(text: str) -> list[str]:
    text = ascii_text(" ".join(text.split()), TEXT_PIECE * TEXT_PIECES)
    return [text[i:i + TEXT_PIECE] for i in range(0, min(len(text), TEXT_PIECE * TEXT_PIECES), TEXT_PIECE)]


def _reason(outcome: dict) -> str:
    reasons = [outcome.get("detail", "")]
    for name, messages in (outcome.get("errors") or {}).items():
        reasons.extend(f"{name}: {message}" for message in messages)
    return " ".join(r for r in reasons if r)


def aperak_interchange(answer: dict, *, recipient: str) -> str:
    """The JSON answer of edi.inbound.interchange_apply as an APERAK interchange to the sender."""
    now = timezone.now()
    interchange = interchange_new(recipient=recipient or "UNKNOWN", moment=now)
    for number, message in enumerate(answer["messages"], start=1):
        aperak = message_new(str(number), "APERAK")
        refused = [c for c in message["containers"] if c["status"] != 201]
        aperak.add_segment(segment("BGM", message["document_code"], message["document_number"],
                                   NOT_ACCEPTED if refused else ACCEPTED))
        aperak.add_segment(segment("DTM", ["137", edifact_datetime(now), "203"]))
        aperak.add_segment(segment("RFF", ["ACW", message["message_reference"]]))
        for container in refused:
            aperak.add_segment(segment("ERC", [str(container["status"]), "", MUTUALLY_DEFINED]))
            aperak.add_segment(segment("FTX", "AAO", None, None,
                                       [container["equipment_reference"], *_pieces(_reason(container))]))
        interchange.add_message(aperak)
    return serialize(interchange)

