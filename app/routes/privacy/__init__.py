"""Public pages about personal data."""
