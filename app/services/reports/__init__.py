"""Figures: the activity report, the national view with statistical secrecy, and the unit ledger (état de service fait)."""
