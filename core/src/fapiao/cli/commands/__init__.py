"""One module per CLI command (or command group); each registers itself on ``app``."""
