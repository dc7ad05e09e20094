"""Small shared mechanisms under every capability: pagination, idempotency, local time, locales and
text folding, and the request context (who is acting, which request)."""
