"""Demo data for `make run`: two operators and their staff, cases in every state, agendas, partners, referrals and documents, all created through the real services."""
