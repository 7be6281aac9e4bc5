"""Benchmarks of callrec on the local Asterisk 22 sandbox; scripts to run by hand, not tests."""
