"""« Messages »: the operator's outbox as staff see it."""
