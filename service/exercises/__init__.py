"""Exercises: the catalog, assignments made by clinicians, and guided sessions."""
