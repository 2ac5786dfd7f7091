"""Risk rules' reasons in the reader's language."""

from django import template

from customs.services import risk_reason_text

register = template.Library()


@register.filter
def risk_reason(hit: dict) -> str:
    """`{{ hit|risk_reason }}`: a hit of Declaration.risk_reasons, said in the active language."""
    return risk_reason_text(hit)
