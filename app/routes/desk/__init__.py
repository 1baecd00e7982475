"""The counsellor's pages that gather several domains: home (lists, search) and the case page."""
