"""Cases and the people in them: beneficiaries, triage (UO0), cases, episodes (units started in any order) and interactions."""
