"""Real servers the tests start for themselves (an S3-compatible store)."""
