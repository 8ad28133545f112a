"""The containers backend's parts: the engine, images, labels and cleanup, the running system.

The backend itself is `harness.runtime.backends.containers.backend` (`start_system(...,
backend="containers")`); nothing here imports testcontainers or the Docker SDK at import
time, so the rest of the harness does not depend on them.
"""
