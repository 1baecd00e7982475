"""What the platform exposes about itself: health check and API documentation."""
