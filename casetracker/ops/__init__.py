"""Operations: readiness of the parts the app depends on, and Prometheus metrics."""
