"""Deliverables, action plans, attachments, and the beneficiary's shared-document link."""
