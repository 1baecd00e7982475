"""Booking pages and APIs: public online booking, the public API, the beneficiary's appointment link, staff calendars and availability admin."""
