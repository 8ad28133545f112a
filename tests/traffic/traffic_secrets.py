"""The secret the traffic fixture system hands its service (see apps/system.toml)."""

NOTES_TOKEN = "tok-very-secret-42"
