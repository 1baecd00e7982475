"""The audit trail: recording accesses and changes, linking and verifying the hash chain,
purging old entries."""

# Registers the session hook that records every change to a person's record, for whoever
# uses the trail (the web app, the worker, the command line).
from app.services.audit import changes  # noqa: F401
