"""Claims domain: reporting, documents, adjudication, fast-claim, direct billing, payments, risk."""
