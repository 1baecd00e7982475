"""Messages leaving the app: the outbox written in the caller's transaction, and the e-mail transports the worker delivers through."""
