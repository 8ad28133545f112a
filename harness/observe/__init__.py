"""Observing a running system: Prometheus scrapes (`metrics`) and the metrics timeline
recorded during a run (`timeline`)."""
