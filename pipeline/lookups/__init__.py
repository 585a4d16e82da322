"""External lookups: DNS, the SSRF guard, guarded HTTP link checks; each with timeout and cache."""
