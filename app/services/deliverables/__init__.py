"""Deliverables: drafted from the case, issued as frozen PDF versions, shared with and acknowledged by the beneficiary; action plans and attachments."""
