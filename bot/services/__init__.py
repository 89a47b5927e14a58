"""Domain rules. Nothing in this package imports slack_bolt or slack_sdk (a test checks it)."""
