"""One package per channel: its adapter (the only place its vendor SDK is imported), webhook, wording and CLI."""
