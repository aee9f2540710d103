"""The gateway's security: API keys stored hashed, rate limits, quotas, the audit log."""
