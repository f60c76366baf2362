"""pytest plugin (entry point ``pytest11``) that offers fapiao's fixtures to every test run."""
