"""notifications: receives order events from the outbox relay, dedupes by event id, lists
notifications per order (README "notifications"). App: `shop.notifications.app:app`."""
