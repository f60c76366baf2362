"""The plugin contract: what a provider or connector plugin implements."""

from fapiao.contract.capabilities import Capabilities, ProviderInfo
from fapiao.contract.connector import Connector, MappedDocument, SourceDocument, WriteBack
from fapiao.contract.provider import Provider
from fapiao.contract.sandbox import SANDBOX_GROUP, RunningSandbox, SandboxOptions, SandboxStarter
from fapiao.contract.settings import ConnectorSettings, PluginSettings, ProviderSettings

__all__ = [
    "SANDBOX_GROUP",
    "Capabilities",
    "Connector",
    "ConnectorSettings",
    "MappedDocument",
    "PluginSettings",
    "Provider",
    "ProviderInfo",
    "ProviderSettings",
    "RunningSandbox",
    "SandboxOptions",
    "SandboxStarter",
    "SourceDocument",
    "WriteBack",
]
