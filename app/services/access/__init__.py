"""Who may do what: staff login and sessions, login throttling, public rate limits, and the tenant scope (the rows an actor may read)."""
