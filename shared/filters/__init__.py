"""Saved ad hoc filters: their structured criteria (never SQL), who owns them, what they match."""
