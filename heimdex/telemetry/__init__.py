"""What a running Heimdex tells its operator: structured logs and Prometheus metrics."""
