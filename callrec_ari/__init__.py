"""callrec: consent-gated, GDPR-compliant recording of inbound calls beside an Asterisk PBX."""

__version__ = "0.1.0"
