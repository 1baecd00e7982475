"""Activity report, national view and unit ledger: pages, downloads and API."""
