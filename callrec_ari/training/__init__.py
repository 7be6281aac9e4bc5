"""Anonymised training copies of calls (seed 003 §9, issue 12 §2).

``spans`` reads the stretches a supervisor marks for silence; ``source`` decides which calls
may be marked and finds their two legs; ``anonymise`` builds and runs the ffmpeg command
that disguises or drops the caller's voice; ``library`` makes, lists, plays and deletes the
copies; ``expiry`` is the library's own retention, run by the purge; ``commands`` is
``callrec training``.
"""
