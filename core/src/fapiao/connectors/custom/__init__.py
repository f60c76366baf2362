"""The built-in ``custom`` connector for self-built systems: CSV, JSON Lines or SQL in, a TOML
mapping file, results written back to a table or a file."""

from fapiao.connectors.custom.connector import CustomConnector, CustomSettings
from fapiao.connectors.custom.expressions import Expression, ExpressionError
from fapiao.connectors.custom.spec import MappingSpec, load_mapping

__all__ = [
    "CustomConnector",
    "CustomSettings",
    "Expression",
    "ExpressionError",
    "MappingSpec",
    "load_mapping",
]
