"""Login and logout pages, and API tokens."""
