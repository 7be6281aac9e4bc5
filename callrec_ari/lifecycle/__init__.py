"""The life of a stored call after it ends: retention, purge, legal holds."""
