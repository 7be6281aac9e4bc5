"""The register of calls the dialplan connected while the service was unavailable.

``lines`` parses what ``[callrec-register]`` appends (pure); ``importer`` takes the file over,
turns each call into a ``CallRecord`` with consent ``service_unavailable`` and hands it to
the database writer, so every inbound call keeps a row even during fail-open.
"""
