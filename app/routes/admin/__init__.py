"""Pages that run an operator: its staff (« Équipe »)."""
