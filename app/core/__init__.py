"""Framework-free foundations: settings, database engine, domain errors, security (every JWT call), dates, file storage, typography. No FastAPI, no templates, no models."""
