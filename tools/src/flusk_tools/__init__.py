"""Flusk's developer tooling: the service registry, the gateway renderer and the local run."""
