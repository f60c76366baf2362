"""ERP connectors built into core (plugins add more through the ``fapiao.connectors`` group)."""
