"""The personal space: the beneficiary's pages without an account."""
