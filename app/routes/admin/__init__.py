"""Pages that run an operator: its staff (« Équipe »), the actions it funds from UO4."""
