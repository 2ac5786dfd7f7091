"""Declaration pages: the shipper declares, submits and amends; officers work the queue, decide and inspect;
and nobody sees another organisation's declaration (404) or pages not meant for them (403)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from customs.models import Declaration, DeclarationStatus, Inspection
from intermodal.models import PartyKind
from tests import factories
from tests.customs.conftest import NUMBERS, draft

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def form_data(lines, **extra) -> dict:
    data = {
        "declarant_uscc": factories.VALID_USCC,
        "trade_mode": "0110",
        "transport_mode": "rail_vessel",
        **extra,
    }
    for row, line in enumerate(lines):
        for name, value in line.items():
            data[f"line{row}_{name}"] = value
    return data


def login(client, actor):
    client.force_login(actor.user)
    return client


def submitted(declared) -> Declaration:
    declaration = draft(declared)
    from customs import services

    return services.declaration_submit(actor=declared.shipper.actor, declaration=declaration)


def decide(client, actor, declaration, kind, reason="Documents in order"):
    login(client, actor)
    return client.post(f"/declarations/{declaration.reference}/decide/",
                       {"decision-kind": kind, "decision-reason": reason})


def test_the_shipper_declares_from_the_booking_page_fixes_a_bad_hs_code_and_submits(client, declared):
    login(client, declared.shipper)
    booking_page = client.get(f"/bookings/{declared.booking.reference}/")
    new_url = f"/declarations/new/{declared.booking.reference}/"
    assert new_url in booking_page.content.decode()

    form = client.get(new_url)
    assert form.status_code == 200
    covered = form.content.decode()
    assert all(f'data-container="{number}"' in covered for number in NUMBERS)

    lines = [factories.goods_line(gross_weight_kg="10000"),
             factories.goods_line(hs_code="9903", description="Dolls", gross_weight_kg="8000")]
    refused = client.post(new_url, form_data(lines))
    assert refused.status_code == 400
    assert "line1_hs_code" in refused.context["form"].errors
    assert "line0_hs_code" not in refused.context["form"].errors
    assert not Declaration.objects.exists()

    lines[1]["hs_code"] = "9503008900"
    created = client.post(new_url, form_data(lines))
    declaration = Declaration.objects.get()
    assert created.status_code == 302 and created.url == f"/declarations/{declaration.reference}/"
    assert declaration.status == DeclarationStatus.DRAFT
    assert declaration.lines.count() == 2  # the blank third row is ignored
    assert sorted(declaration.containers.values_list("number", flat=True)) == sorted(NUMBERS)

    page = client.get(created.url)
    assert page.context["can_edit"] and b"submit-declaration" in page.content
    assert f"/declarations/new/{declared.booking.reference}/" not in client.get(
        f"/bookings/{declared.booking.reference}/").content.decode()

    sent = client.post(f"/declarations/{declaration.reference}/submit/")
    declaration.refresh_from_db()
    assert sent.status_code == 302
    assert declaration.status == DeclarationStatus.SUBMITTED
    again = client.post(f"/declarations/{declaration.reference}/submit/")
    assert again.status_code == 409 and b'id="action-error"' in again.content


def test_the_shipper_edits_a_draft_and_a_refused_submission_shows_the_reason(client, declared):
    declaration = draft(declared, lines=[factories.goods_line(gross_weight_kg="5000")])
    login(client, declared.shipper)
    refused = client.post(f"/declarations/{declaration.reference}/submit/")
    assert refused.status_code == 400
    assert "18000" in refused.context["action_error"] or "18,000" in refused.context["action_error"]
    shown = refused.content.decode()
    assert "(400)" not in shown  # the refusal is words and what to do next, not a status code
    assert 'id="correct-draft"' in shown and f"/declarations/{declaration.reference}/edit/" in shown

    edit_url = f"/declarations/{declaration.reference}/edit/"
    prefilled = client.get(edit_url).context["form"]
    assert prefilled["line0_gross_weight_kg"].value() == declaration.lines.get().gross_weight_kg
    saved = client.post(edit_url, form_data([factories.goods_line(gross_weight_kg="18000")]))
    assert saved.status_code == 302
    declaration.refresh_from_db()
    assert declaration.lines.get().gross_weight_kg == 18000
    assert list(declaration.containers.values_list("number", flat=True)) == NUMBERS


def test_officers_queue_lists_it_and_both_agencies_clearing_releases_it(client, declared):
    declaration = submitted(declared)
    login(client, declared.customs)
    queue = client.get("/declarations/")
    assert queue.status_code == 200
    assert [d.reference for d in queue.context["declarations"]] == [declaration.reference]
    assert client.get("/declarations/", {"risk": "yes"}).context["declarations"] == []
    assert client.get("/declarations/", {"older_than_hours": "5"}).context["declarations"] == []

    assert decide(client, declared.customs, declaration, "clear").status_code == 302
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.SUBMITTED
    assert decide(client, declared.ciq, declaration, "clear", "No quarantine concerns").status_code == 302
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.RELEASED

    login(client, declared.customs)
    queue = client.get("/declarations/")
    assert queue.context["declarations"] == []
    [figures] = queue.context["figures"]
    assert figures["released"] == 1 and figures["share_percent"] == 100
    declared.customs.user.language = "zh-hans"
    declared.customs.user.save(update_fields=["language"])
    station = declaration.station
    in_chinese = client.get("/declarations/").content.decode()
    assert f"{station.name_zh} <span" in in_chinese and f"{station.name} <span" not in in_chinese

    login(client, declared.shipper)
    page = client.get(f"/declarations/{declaration.reference}/")
    assert b'data-status="released"' in page.content
    assert [d.kind for d in page.context["decisions"]] == ["clear", "clear"]


def test_a_decision_needs_a_reason_and_a_refused_decision_is_a_409_not_a_500(client, declared):
    declaration = submitted(declared)
    no_reason = decide(client, declared.customs, declaration, "clear", reason="")
    assert no_reason.status_code == 400
    assert "reason" in no_reason.context["decision_form"].errors
    assert decide(client, declared.customs, declaration, "clear").status_code == 302
    twice = decide(client, declared.customs, declaration, "clear")
    assert twice.status_code == 409
    assert "already" in twice.context["action_error"]
    assert declaration.decisions.count() == 1


def test_the_joint_inspection_through_the_pages(client, declared):
    declaration = submitted(declared)
    assert decide(client, declared.customs, declaration, "inspect", "Check the toys' labelling").status_code == 302
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.INSPECTION_REQUIRED

    page = client.get(f"/declarations/{declaration.reference}/")
    assert page.context["can_schedule"] and not page.context["can_record"]
    when = (timezone.now() + timedelta(days=1)).astimezone(SHANGHAI).replace(hour=9, minute=30, second=0,
                                                                            microsecond=0)
    login(client, declared.ciq)
    scheduled = client.post(f"/declarations/{declaration.reference}/inspection/schedule/",
                            {"schedule-appointment_at": when.strftime("%Y-%m-%dT%H:%M"), "schedule-place": "Bay 3"})
    assert scheduled.status_code == 302
    inspection = Inspection.objects.get(declaration=declaration)
    assert inspection.appointment_at == when and inspection.place == "Bay 3"

    recorded = client.post(f"/declarations/{declaration.reference}/inspection/result/",
                           {"result-result": "passed", "result-findings": "Labels match the goods."})
    assert recorded.status_code == 302
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.INSPECTED

    decide(client, declared.customs, declaration, "clear", "Inspected, in order")
    decide(client, declared.ciq, declaration, "clear", "Inspected, in order")
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.RELEASED
    login(client, declared.shipper)
    page = client.get(f"/declarations/{declaration.reference}/")
    assert b'data-result="passed"' in page.content and b"Bay 3" in page.content


def test_a_rejection_then_an_amendment_keeps_both_versions(client, declared):
    declaration = submitted(declared)
    assert decide(client, declared.customs, declaration, "reject", "Wrong trade mode").status_code == 302

    login(client, declared.shipper)
    page = client.get(f"/declarations/{declaration.reference}/")
    assert page.context["can_amend"] and b"Wrong trade mode" in page.content

    amended = client.post(f"/declarations/{declaration.reference}/amend/")
    second = Declaration.objects.get(previous=declaration)
    assert amended.status_code == 302 and amended.url == f"/declarations/{second.reference}/edit/"
    saved = client.post(amended.url, form_data([factories.goods_line()], trade_mode="1039"))
    assert saved.status_code == 302
    assert client.post(f"/declarations/{second.reference}/submit/").status_code == 302

    declaration.refresh_from_db()
    second.refresh_from_db()
    assert (declaration.status, declaration.version) == (DeclarationStatus.REJECTED, 1)
    assert (second.status, second.version, second.trade_mode) == (DeclarationStatus.SUBMITTED, 2, "1039")
    page = client.get(f"/declarations/{second.reference}/")
    assert [v.version for v in page.context["versions"]] == [1, 2]
    assert f'href="/declarations/{declaration.reference}/"'.encode() in page.content
    assert not client.get(f"/declarations/{declaration.reference}/").context["can_amend"]
    assert client.post(f"/declarations/{declaration.reference}/amend/").status_code == 409


def test_another_shipper_gets_404_on_the_declaration_and_its_actions(client, declared, other_shipper):
    declaration = draft(declared)
    login(client, other_shipper)
    ref = declaration.reference
    assert client.get(f"/declarations/{ref}/").status_code == 404
    assert client.get(f"/declarations/{ref}/edit/").status_code == 404
    assert client.get(f"/declarations/new/{declared.booking.reference}/").status_code == 404
    for action in ("edit", "submit", "amend", "decide", "inspection/schedule", "inspection/result"):
        assert client.post(f"/declarations/{ref}/{action}/").status_code == 404, action
    assert client.get("/declarations/").context["declarations"].count() == 0
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.DRAFT


def test_a_station_operator_is_kept_out_of_the_officer_pages(client, declared):
    declaration = submitted(declared)
    operator = factories.organisation(PartyKind.STATION_OPERATOR, code="yiwu-operator")
    client.force_login(factories.user(operator))
    assert client.get("/declarations/").status_code == 403
    assert client.get(f"/declarations/{declaration.reference}/").status_code == 404
    assert client.post(f"/declarations/{declaration.reference}/decide/",
                       {"decision-kind": "clear", "decision-reason": "x"}).status_code == 404
    assert not declaration.decisions.exists()


def test_the_shipper_cannot_decide_its_own_declaration(client, declared):
    declaration = submitted(declared)
    refused = decide(client, declared.shipper, declaration, "clear")
    assert refused.status_code == 403
    assert not declaration.decisions.exists()


def test_the_queue_is_paginated_and_keeps_its_filters(client, declared, connecting, monkeypatch):
    from bookings import services as booking_services
    from customs import services, views
    from tests.bookings.conftest import book

    first = submitted(declared)
    booking = book(declared.shipper.actor, connecting, lines={"42G1": 1})
    booking_services.container_assign(actor=declared.shipper.actor, booking=booking, number="TOLU4734787",
                                      size_type="42G1")
    second = services.declaration_submit(actor=declared.shipper.actor, declaration=services.declaration_create(
        actor=declared.shipper.actor, booking=booking, trade_mode="0110", transport_mode="rail_vessel",
        containers=["TOLU4734787"], lines=[factories.goods_line()], declarant_uscc=factories.VALID_USCC))
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    login(client, declared.customs)

    page_one = client.get("/declarations/", {"risk": "no"})
    page_two = client.get("/declarations/", {"risk": "no", "page": "2"})

    assert [d.reference for d in page_one.context["declarations"]] == [first.reference]
    assert [d.reference for d in page_two.context["declarations"]] == [second.reference]
    assert 'href="?risk=no&amp;page=2"' in page_one.content.decode()
    assert "2 declarations waiting" in page_one.content.decode()


def test_officers_clear_several_declarations_at_once_with_a_result_for_each(client, declared, connecting):
    from django.contrib.messages import get_messages

    from customs import services
    from tests.bookings.conftest import book

    first = submitted(declared)
    booking = book(declared.shipper.actor, connecting, lines={"42G1": 1})
    second = services.declaration_submit(actor=declared.shipper.actor, declaration=services.declaration_create(
        actor=declared.shipper.actor, booking=booking, trade_mode="0110", transport_mode="rail_vessel",
        lines=[factories.goods_line()], declarant_uscc=factories.VALID_USCC))
    login(client, declared.customs)
    queue = client.get("/declarations/").content.decode()
    assert 'form="bulk-clear"' in queue and 'id="bulk-clear"' in queue

    cleared = client.post("/declarations/clear-selected/", {
        "bulk-references": [first.reference, second.reference, "SD-2099-999999-1"],
        "bulk-reason": "Documents in order"}, follow=True)
    results = [str(m) for m in get_messages(cleared.wsgi_request)] or [
        str(m) for m in cleared.context["messages"]]
    nothing = client.post("/declarations/clear-selected/", {"bulk-reason": "x"}, follow=True)
    login(client, declared.ciq)
    client.post("/declarations/clear-selected/", {"bulk-references": [first.reference, second.reference],
                                                  "bulk-reason": "No quarantine concerns"})
    login(client, declared.shipper)
    shipper_try = client.post("/declarations/clear-selected/", {"bulk-references": [first.reference],
                                                                "bulk-reason": "mine"})

    assert cleared.status_code == 200
    assert any(first.reference in r and "cleared" in r for r in results)
    assert any(second.reference in r and "cleared" in r for r in results)
    assert any("SD-2099-999999-1" in r for r in results)
    assert "Select the declarations to clear." in nothing.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (DeclarationStatus.RELEASED, DeclarationStatus.RELEASED)
    assert shipper_try.status_code == 403


def test_the_queue_sorts_by_a_column(client, declared, connecting):
    from customs import services
    from tests.bookings.conftest import book

    older = submitted(declared)
    booking = book(declared.shipper.actor, connecting, lines={"42G1": 1})
    newer = services.declaration_submit(actor=declared.shipper.actor, declaration=services.declaration_create(
        actor=declared.shipper.actor, booking=booking, trade_mode="0110", transport_mode="rail_vessel",
        lines=[factories.goods_line()], declarant_uscc=factories.VALID_USCC))
    login(client, declared.customs)

    default = client.get("/declarations/")
    newest_first = client.get("/declarations/", {"sort": "-submitted"})

    assert [d.reference for d in default.context["declarations"]] == [older.reference, newer.reference]
    assert [d.reference for d in newest_first.context["declarations"]] == [newer.reference, older.reference]
    assert 'aria-sort="descending"' in newest_first.content.decode()
