"""Check-in reminders a client chose (local times, weekdays, quiet hours), sent by Web Push or email."""
