"""Single declaration, single inspection, single release: the lifecycle and who may decide."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from customs import services
from customs.models import Decision, Declaration, DeclarationStatus, RiskRule
from customs.templatetags.risk import risk_reason
from intermodal.access import Actor
from intermodal.errors import InvalidInput, NotAllowed, StateConflict
from intermodal.models import Event, PartyKind
from tests import factories
from tests.customs.conftest import draft

pytestmark = pytest.mark.django_db


def submitted(declared, **overrides):
    declaration = draft(declared, **overrides)
    return services.declaration_submit(actor=declared.shipper.actor, declaration=declaration)


def test_invalid_hs_codes_and_uscc_are_refused_with_field_messages(declared):
    with pytest.raises(InvalidInput) as hs:
        draft(declared, lines=[factories.goods_line(hs_code="9803000000"), factories.goods_line(hs_code="95030")])
    with pytest.raises(InvalidInput) as uscc:
        draft(declared, declarant_uscc="91330782MA28C0XX0X")
    with pytest.raises(InvalidInput) as country:
        draft(declared, lines=[factories.goods_line(origin_country="XX", currency="usd")])

    assert "chapters run from 01 to 97" in hs.value.errors["lines.0.hs_code"][0]
    assert "10 digits" in hs.value.errors["lines.1.hs_code"][0]
    assert "declarant_uscc" in uscc.value.errors
    assert {"lines.0.origin_country", "lines.0.currency"} <= set(country.value.errors)
    assert not Declaration.objects.exists()


def test_totals_are_checked_against_the_booking(declared):
    declaration = draft(declared, lines=[factories.goods_line(gross_weight_kg="9000")])

    with pytest.raises(InvalidInput) as error:
        services.declaration_submit(actor=declared.shipper.actor, declaration=declaration)

    assert "18000" in error.value.errors["lines"][0]
    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.DRAFT


def test_release_needs_both_agencies(declared):
    declaration = submitted(declared)

    services.declaration_decide(actor=declared.customs, declaration=declaration, kind="clear", reason="OK")
    after_customs = Declaration.objects.get(pk=declaration.pk).status
    services.declaration_decide(actor=declared.ciq, declaration=declaration, kind="clear", reason="No quarantine")

    declaration.refresh_from_db()
    assert after_customs == DeclarationStatus.SUBMITTED
    assert declaration.status == DeclarationStatus.RELEASED
    assert declaration.released_at is not None
    codes = list(Event.objects.filter(document_reference=declaration.reference).values_list("event_code", flat=True))
    assert codes == ["DRFT", "SUBM", "RELS"]
    assert Event.objects.get(event_code="RELS").document_type == "CUS"


def test_only_officers_of_the_right_party_and_station_decide(declared, connecting):
    declaration = submitted(declared)
    elsewhere = factories.organisation(PartyKind.CUSTOMS, code="customs-far-away")
    outsiders = [declared.shipper.actor, Actor(organisation=connecting.network.railway), Actor(organisation=elsewhere)]

    for actor in outsiders:
        with pytest.raises(NotAllowed) as error:
            services.declaration_decide(actor=actor, declaration=declaration, kind="clear", reason="x")
        assert error.value.status == 403

    assert not Decision.objects.exists()


def test_a_decision_needs_a_reason(declared):
    declaration = submitted(declared)

    with pytest.raises(InvalidInput) as error:
        services.declaration_decide(actor=declared.customs, declaration=declaration, kind="reject", reason=" ")

    assert "reason" in error.value.errors


def test_one_joint_inspection_with_one_result_for_both(declared):
    declaration = submitted(declared)

    services.declaration_decide(actor=declared.customs, declaration=declaration, kind="inspect", reason="Check toys")
    with pytest.raises(StateConflict):
        services.declaration_decide(actor=declared.ciq, declaration=declaration, kind="inspect", reason="Pests")
    services.inspection_schedule(actor=declared.ciq, declaration=declaration,
                                 appointment_at=timezone.now() + timedelta(hours=3), place="Yiwu West bay 4")
    services.inspection_record(actor=declared.customs, declaration=declaration, result="passed",
                               findings="Goods as declared")
    inspected = Declaration.objects.get(pk=declaration.pk).status
    services.declaration_decide(actor=declared.customs, declaration=declaration, kind="clear", reason="Inspected")
    services.declaration_decide(actor=declared.ciq, declaration=declaration, kind="clear", reason="Inspected")

    declaration.refresh_from_db()
    assert inspected == DeclarationStatus.INSPECTED
    assert declaration.status == DeclarationStatus.RELEASED
    assert declaration.inspection.appointment_at is not None
    assert declaration.inspection.place == "Yiwu West bay 4"
    assert Event.objects.filter(event_code="HOLD", document_reference=declaration.reference).count() == 1


def test_a_rejection_and_the_amended_resubmission_keep_both_versions(declared):
    first = submitted(declared)
    services.declaration_decide(actor=declared.ciq, declaration=first, kind="reject",
                                reason="Origin certificate missing")

    second = services.declaration_amend(actor=declared.shipper.actor, declaration=first)
    services.declaration_update(actor=declared.shipper.actor, declaration=second,
                                lines=[factories.goods_line(description="Plastic toys, with origin certificate")])
    services.declaration_submit(actor=declared.shipper.actor, declaration=second)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == DeclarationStatus.REJECTED
    assert first.rejection_reason == "Origin certificate missing"
    assert first.lines.get().description == "Plastic toys"
    assert second.version == 2
    assert second.previous == first
    assert second.status == DeclarationStatus.SUBMITTED
    assert second.lines.get().description.endswith("origin certificate")
    assert set(second.containers.values_list("number", flat=True)) == set(first.containers.values_list("number",
                                                                                                          flat=True))


def test_a_released_declaration_makes_its_containers_loadable(declared):
    container = declared.booking.containers.first()

    with pytest.raises(StateConflict) as error:
        services.vessel_loading_customs_check(container)
    release = submitted(declared)
    for officer in (declared.customs, declared.ciq):
        services.declaration_decide(actor=officer, declaration=release, kind="clear", reason="OK")
    services.vessel_loading_customs_check(container)

    assert error.value.code == "not_released"
    assert services.container_released(container)


@pytest.mark.parametrize(
    ("rule", "overrides", "selected"),
    [
        ({"kind": "hs_chapter", "parameters": {"chapters": ["95"]}}, {}, True),
        ({"kind": "hs_chapter", "parameters": {"chapters": ["93"]}}, {}, False),
        ({"kind": "value_above", "parameters": {"amount": "30000", "currency": "USD"}}, {}, True),
        ({"kind": "value_above", "parameters": {"amount": "50000", "currency": "USD"}}, {}, False),
        ({"kind": "random", "parameters": {"rate": "1"}}, {}, True),
        ({"kind": "random", "parameters": {"rate": "0"}}, {}, False),
    ],
)
def test_risk_rules_select_what_they_say_and_record_why(declared, rule, overrides, selected):
    RiskRule.objects.create(name="rule under test", agency="customs", **rule)

    declaration = submitted(declared, **overrides)

    assert declaration.risk_selected is selected
    assert declaration.status == (DeclarationStatus.INSPECTION_REQUIRED if selected else DeclarationStatus.SUBMITTED)
    if selected:
        assert declaration.risk_reasons[0]["rule"] == "rule under test"
        assert declaration.risk_reasons[0]["reason"]
        assert declaration.inspection.requested_by == "customs"


def test_a_rules_reason_is_said_in_each_readers_language(declared):
    RiskRule.objects.create(name="value", agency="customs", kind="value_above",
                            parameters={"amount": "30000", "currency": "USD"})
    RiskRule.objects.create(name="sample", agency="border_inspection", kind="random", parameters={"rate": "1"})
    with translation.override("en"):  # submitted by an English-speaking declarant
        declaration = submitted(declared)
    hits = {hit["kind"]: hit for hit in declaration.risk_reasons}

    assert hits["value_above"]["reason"].startswith("Declared value")
    assert hits["random"]["reason"].startswith("Random sample")
    with translation.override("zh-hans"):
        said = {kind: risk_reason(hit) for kind, hit in hits.items()}
    assert said["value_above"].startswith("申报货值") and "USD" in said["value_above"]
    assert said["random"].startswith("随机抽查")
    # A reason recorded before its message was kept is shown as it was stored.
    assert risk_reason({"reason": "Recorded in English"}) == "Recorded in English"


def test_random_sampling_is_deterministic(declared):
    rule = RiskRule.objects.create(name="sample", agency="border_inspection", kind="random",
                                   parameters={"rate": "0.5"})
    declaration = draft(declared)

    draws = {services._sample(declaration, rule) for _ in range(5)}

    assert len(draws) == 1


def test_declarant_history_and_dangerous_goods_rules(declared):
    RiskRule.objects.create(name="history", agency="customs", kind="declarant_history",
                            parameters={"rejections": 1, "days": 30})
    first = submitted(declared)
    services.declaration_decide(actor=declared.customs, declaration=first, kind="reject", reason="Wrong HS code")
    second = services.declaration_amend(actor=declared.shipper.actor, declaration=first)

    services.declaration_submit(actor=declared.shipper.actor, declaration=second)

    second.refresh_from_db()
    assert second.risk_selected
    assert "rejected" in second.risk_reasons[0]["reason"]


def test_a_shipper_changes_only_drafts_and_only_its_own(declared, other_shipper):
    declaration = submitted(declared)

    with pytest.raises(StateConflict):
        services.declaration_update(actor=declared.shipper.actor, declaration=declaration, trade_mode="1039")
    with pytest.raises(NotAllowed) as foreign:
        services.declaration_submit(actor=other_shipper.actor, declaration=declaration)

    assert foreign.value.status == 403
    assert Declaration.objects.get(pk=declaration.pk).trade_mode == "0110"


def test_one_declaration_per_booking(declared):
    draft(declared)

    with pytest.raises(StateConflict) as error:
        draft(declared)

    assert error.value.code == "already_declared"


def test_the_port_cannot_load_an_unreleased_container_and_loads_it_once_released(shipper, connecting):
    from bookings.models import ContainerStatus
    from journey import services as journey
    from tests.bookings.test_journey import NUMBERS as JOURNEY_NUMBERS
    from tests.bookings.test_journey import to_station

    network = connecting.network
    parties = {"station": Actor(organisation=network.operator), "railway": Actor(organisation=network.railway),
               "port": Actor(organisation=network.port)}
    booking, _request = to_station(shipper, connecting, parties, count=1)
    number = JOURNEY_NUMBERS[0]
    journey.train_load(confirmed=True, actor=parties["station"], number=number)
    journey.train_depart(confirmed=True, actor=parties["railway"], departure=connecting.departure)
    journey.train_arrive(confirmed=True, actor=parties["railway"], departure=connecting.departure,
                         at=timezone.now() + timedelta(hours=8))
    journey.train_discharge(confirmed=True, actor=parties["port"], number=number)
    journey.terminal_gate_in(confirmed=True, actor=parties["port"], number=number)

    with pytest.raises(StateConflict) as refused:
        journey.vessel_load(confirmed=True, actor=parties["port"], number=number)
    factories.declaration_released(booking)
    loaded = journey.vessel_load(confirmed=True, actor=parties["port"], number=number)

    assert refused.value.code == "not_released"
    assert loaded.status == ContainerStatus.ON_VESSEL


def test_a_declaration_filed_before_any_container_number_covers_those_numbered_later(shipper, connecting):
    """Shippers declare when they book: the empties handed out and the shipper's own container join the
    declaration as they get numbers, before and after release, and the port then loads them."""
    from bookings import services as booking_services
    from customs.selectors import customs_labels
    from journey import services as journey
    from tests.bookings.conftest import book

    booking = book(shipper.actor, connecting, lines={"42G1": 3}, cargo_weight_kg="27000")
    customs, ciq = factories.inspection_offices(connecting.network.yiwu)
    station = Actor(organisation=connecting.network.operator)
    declaration = services.declaration_create(
        actor=shipper.actor, booking=booking, trade_mode="0110", transport_mode="rail_vessel",
        lines=[factories.goods_line(gross_weight_kg="27000")], declarant_uscc=factories.VALID_USCC)
    services.declaration_submit(actor=shipper.actor, declaration=declaration)

    own = booking_services.container_assign(actor=shipper.actor, booking=booking, number="CSQU3054383",
                                            size_type="42G1")
    request = booking_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1",
                                                    quantity=2)
    journey.empty_request_ready(actor=station, request=request)
    handed_out = journey.empty_hand_out(actor=station, request=request, number="TCNU7200794")
    assert not services.container_released(own) and not services.container_released(handed_out)

    for office in (customs, ciq):
        services.declaration_decide(actor=Actor(organisation=office, user=factories.user(office)),
                                    declaration=declaration, kind="clear", reason="Documents in order")
    after_release = journey.empty_hand_out(actor=station, request=request, number="TOLU4734787")

    declaration.refresh_from_db()
    assert declaration.status == DeclarationStatus.RELEASED
    assert list(declaration.containers.values_list("number", flat=True)) == [
        "CSQU3054383", "TCNU7200794", "TOLU4734787"]
    for container in (own, handed_out, after_release):
        services.vessel_loading_customs_check(container)  # refused with not_released if it were not covered
    labels = customs_labels([own, handed_out, after_release])
    assert set(labels.values()) == {str(DeclarationStatus.RELEASED.label)}


def test_an_amendment_covers_the_containers_numbered_after_the_rejected_version(declared):
    from bookings import services as booking_services

    booking = declared.booking
    booking_services.booking_amend(actor=declared.shipper.actor, booking=booking, lines={"42G1": 3})
    first = submitted(declared)
    services.declaration_decide(actor=declared.customs, declaration=first, kind="reject", reason="Invoice missing")
    late = booking_services.container_assign(actor=declared.shipper.actor, booking=booking, number="TOLU4734787",
                                             size_type="42G1")

    second = services.declaration_amend(actor=declared.shipper.actor, declaration=first)
    services.declaration_submit(actor=declared.shipper.actor, declaration=second)
    for officer in (declared.customs, declared.ciq):
        services.declaration_decide(actor=officer, declaration=second, kind="clear", reason="OK")

    assert "TOLU4734787" in set(second.containers.values_list("number", flat=True))
    assert services.container_released(late)


def test_naming_a_container_that_is_not_on_the_booking_is_refused(declared):
    with pytest.raises(InvalidInput) as refused:
        draft(declared, containers=["TOLU4734787"])

    assert "TOLU4734787" in str(refused.value.errors["containers"])
    assert not Declaration.objects.exists()
