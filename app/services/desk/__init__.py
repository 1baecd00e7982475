"""What the counsellor's pages gather from several domains: the case page."""
