"""Contract and chaos testing harness for HTTP microservices."""

__version__ = "0.1.0"
