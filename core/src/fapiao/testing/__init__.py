"""The testing kit for plugin authors: fixtures, servers on loopback and the conformance suite."""
