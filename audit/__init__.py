"""The audit trail: who did what, when, to which object, with the value before and after. Append-only."""
