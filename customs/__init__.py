"""Customs: the single declaration, joint inspection and inland release (issue 5)."""
