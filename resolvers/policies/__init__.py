"""Policies core: customers, products, quotes, underwriting, policies and endorsements."""
