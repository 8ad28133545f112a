"""users: users CRUD with validation (README "users"). App: `shop.users.app:app`."""
