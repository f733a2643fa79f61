"""What the running service tells its operators: metrics, request and audit logs, outages."""
