"""Releases of recordings to third parties, approved by the director (seed 000 §7.2)."""
