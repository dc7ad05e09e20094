"""Standard questionnaires: definitions (en, fr), scoring and change over time."""
