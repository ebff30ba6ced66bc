"""Advance payments: money to a customer in hospital before the claim is settled."""
