"""Password hashing, tokens, field encryption, actors and roles."""
