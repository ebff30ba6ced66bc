"""The payment rail: instructions, payee accounts, bank batches and returns."""
