"""Bookings: connection search, quotes, bookings with guaranteed capacity, containers (issue 3)."""
