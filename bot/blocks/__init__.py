"""Pure `build_*` functions: data in, Block Kit out (slack_sdk.models validates Slack's limits)."""
