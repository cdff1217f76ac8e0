"""The sync pipeline both directions share: where changes come from (``source``), and the steps they go through."""
