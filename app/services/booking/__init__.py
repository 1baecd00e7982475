"""Appointments: what can be booked (motifs, openings, absences), free slots, booking online / by API / by staff, moves and cancellations, calendars and their messages."""
