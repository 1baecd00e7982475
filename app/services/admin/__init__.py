"""An operator's own set-up: operators and sites, staff accounts, the unit catalogue."""
