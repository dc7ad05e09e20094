"""The demo: seeded clinics, staff and patients with weeks of history, for `tandem demo` and tests."""
