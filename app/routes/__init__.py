"""Thin HTTP layer: parse, call one service, render HTML (pages, htmx fragments) or JSON."""
