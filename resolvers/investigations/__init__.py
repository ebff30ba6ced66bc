"""Investigations of claims by assessor firms (issue 10, item 2)."""
