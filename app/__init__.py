"""Fil rouge — case tracker for the conseil en évolution professionnelle (CEP)."""
