"""Daily mood check-ins: writing them, reading them back, and their trends."""
