"""What a role tells its operators: JSON logs and the access log, metrics, traces, probes."""
