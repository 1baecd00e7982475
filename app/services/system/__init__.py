"""What the platform knows about its own running: readiness, figures for /metrics, the
workers' heartbeats."""
