"""Demo risk rules for the joint inspection: safe to run again (each rule is keyed on its name)."""

from audit.context import ActingCommand
from customs.models import Agency, RiskRule, RiskRuleKind

RULES = [
    {"name": "Weapons and explosives (HS 93, 36)", "kind": RiskRuleKind.HS_CHAPTER, "agency": Agency.CUSTOMS,
     "parameters": {"chapters": ["93", "36"]}},
    {"name": "High declared value (above 500000 USD)", "kind": RiskRuleKind.VALUE_ABOVE, "agency": Agency.CUSTOMS,
     "parameters": {"amount": "500000", "currency": "USD"}},
    {"name": "Dangerous goods", "kind": RiskRuleKind.DANGEROUS_GOODS, "agency": Agency.BORDER_INSPECTION,
     "parameters": {}},
    {"name": "Declarant with 2 rejections in 365 days", "kind": RiskRuleKind.DECLARANT_HISTORY,
     "agency": Agency.CUSTOMS, "parameters": {"rejections": 2, "days": 365}},
    {"name": "Random sample (5 %)", "kind": RiskRuleKind.RANDOM, "agency": Agency.BORDER_INSPECTION,
     "parameters": {"rate": "0.05"}},
]


class Command(ActingCommand):
    help = "Create or update the demo risk rules (idempotent)."

    def handle(self, *args, **options):
        created = 0
        for rule in RULES:
            _rule, new = RiskRule.objects.update_or_create(
                name=rule["name"],
                defaults={"kind": rule["kind"], "agency": rule["agency"], "parameters": rule["parameters"]},
            )
            created += new
        if options.get("verbosity", 1):
            self.stdout.write(f"Risk rules: {len(RULES)} ({created} new).")
