"""The staff audit trail: append-only, hash-chained, verified by ``callrec audit verify``."""
