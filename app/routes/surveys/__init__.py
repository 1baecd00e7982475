"""Satisfaction at the end of each level and utility six months later: questionnaires,
invitations, answers and their results."""
