"""Risk control: versioned decision tables (zen-engine), a personal risk profile, an ML score."""
