"""The client's safety plan (Stanley-Brown), versioned: see service.py."""
