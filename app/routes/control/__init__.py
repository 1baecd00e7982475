"""Missing proofs, proof requirements, control campaigns and their proof packs."""
