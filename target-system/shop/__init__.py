"""The reference shop: six services with real resilience patterns."""
