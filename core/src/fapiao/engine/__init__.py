"""The issuance engine: the durable ledger, the state machine, routing and the client.

Everything here sits above the transport and the provider contract; plugins never import it.
"""
