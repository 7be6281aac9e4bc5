"""The organisation's profile: who records, why, for how long, and what callers are told."""
