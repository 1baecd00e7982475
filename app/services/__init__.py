"""Domain logic: plain keyword-only functions, no HTTP, no templates. Queries live here."""
