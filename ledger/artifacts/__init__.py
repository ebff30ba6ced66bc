"""Compiled contract artifacts (written by contracts/build.mjs; do not edit)."""
