"""Triage, beneficiary pages, and the cases' JSON API."""
