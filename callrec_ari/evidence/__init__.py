"""Per-call consent evidence: what each caller was told and did, and the statement built from it."""
