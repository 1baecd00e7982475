"""The audit trail: recording accesses, verifying the hash chain, purging old entries."""
