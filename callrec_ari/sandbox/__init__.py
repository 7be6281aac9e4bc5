"""A local Asterisk 22 sandbox (chroot) and sipp peers, for the demo, tests and benchmarks."""
