"""Referrals on the case page and the partner's pages, and the partner directory."""
