"""Several callrec instances on one Asterisk: claiming broadcast calls, leases, take-over.

``claims`` claims the calls ``StasisBroadcast()`` offers, ``lease`` decides from the leases
in Asterisk's global variables which peers are alive, and ``takeover`` runs the lease
rounds and lets a dead peer's calls through or follows them (README, "Two instances").
"""
