"""What the platform exposes about itself: probes, metrics and API documentation."""
