"""The rights of the people recorded (GDPR Art. 15-21): requests, export, erasure and more."""
