"""Proof of service: which deliverables prove which unit, the missing proofs, and France compétences' control campaigns with their proof packs."""
