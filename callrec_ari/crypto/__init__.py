"""Recordings encrypted at rest: the file format, data keys wrapped by master keys, rotation."""
