"""The built-in commands of ``fapiao``: name → ``module:attribute`` and the summary listed.

Why a table rather than modules that register themselves on import: the root app can list
every command without importing any of them (see ``fapiao.cli.lazy``). Adding a command
means writing its module under ``fapiao.cli.commands`` and one line here; a test checks
that every line loads and that its summary is the command's own first help paragraph.
"""

from __future__ import annotations

from fapiao.cli.lazy import Builtin

__all__ = ["BUILTINS", "BUILTIN_NAMES"]

_C = "fapiao.cli.commands"

BUILTINS: tuple[Builtin, ...] = (
    Builtin(
        "batch",
        f"{_C}.batch:batch_command",
        "Issue a file of invoices (批量开票): streamed, bounded, resumable.",
    ),
    Builtin(
        "compare",
        f"{_C}.compare:compare_command",
        "Compare providers side by side: capabilities, scenario outcomes, canonical errors, "
        "latency, throughput and cost per 10,000 invoices (服务商对比).",
    ),
    Builtin(
        "completion",
        f"{_C}.completion:completion_command",
        'Print the shell completion script (命令补全脚本); e.g. `eval "$(fapiao completion bash)"`.',
    ),
    Builtin(
        "deliver",
        f"{_C}.deliver:deliver_command",
        "Deliver an issued invoice by e-mail or SMS (交付).",
    ),
    Builtin(
        "demo",
        f"{_C}.demo:demo_command",
        "Run the end-to-end demo on loopback sandboxes (端到端演示).",
    ),
    Builtin(
        "documents",
        f"{_C}.documents:documents_command",
        "Download and verify an invoice's files (下载版式文件).",
    ),
    Builtin(
        "issue",
        f"{_C}.issue:issue_command",
        "Issue one blue invoice (开具蓝字发票), exactly once per seller + order id.",
    ),
    Builtin(
        "new-plugin",
        f"{_C}.new_plugin:new_plugin_command",
        "Generate a provider plugin: pyproject with entry points, settings, a provider whose "
        'operations say "not implemented", a sandbox skeleton, README and conformance tests.',
    ),
    Builtin(
        "plugins",
        f"{_C}.plugins:plugins_command",
        "List installed provider, connector and hook plugins (列出已安装插件), broken ones "
        "included.",
    ),
    Builtin(
        "query",
        f"{_C}.query:query_command",
        "Show the status of one invoice request (查询).",
    ),
    Builtin(
        "reconcile",
        f"{_C}.reconcile:reconcile_command",
        "Settle every unsettled request by asking its provider (对账).",
    ),
    Builtin(
        "red",
        f"{_C}.red:red_command",
        "Reverse an issued invoice with a red invoice (红冲), full or partial.",
    ),
    Builtin(
        "schema",
        f"{_C}.schema:schema_command",
        "Print the JSON Schema of the canonical request models (打印请求模型的 JSON Schema).",
    ),
    Builtin(
        "selftest",
        f"{_C}.selftest:selftest_command",
        "Run every declared capability against one environment and print the evidence "
        "(上线前全功能自测：开票、查询、版式文件、交付、红冲、回调、错误场景).",
    ),
    Builtin(
        "serve",
        f"{_C}.serve:serve_command",
        "Serve provider callbacks, the REST gateway and metrics (回调与网关服务).",
    ),
    Builtin(
        "status",
        f"{_C}.status:status_command",
        "Summarise the ledger (台账概况): counts by state and profile, open requests.",
    ),
    Builtin(
        "sync",
        f"{_C}.sync:sync_command",
        "Sync an ERP: pending documents → invoices → write-back (同步 ERP 单据开票并回写).",
    ),
    Builtin(
        "validate",
        f"{_C}.validate:validate_command",
        "Validate canonical invoices against the 数电 rules (校验发票): totals, 大写 and issues.",
    ),
    Builtin(
        "config",
        f"{_C}.config_cmd:config_app",
        "Check the fapiao configuration (配置检查).",
        group=True,
    ),
    Builtin(
        "secrets",
        f"{_C}.secrets_cmd:secrets_app",
        "Manage the encrypted secrets file (加密密钥文件): set, list, rotate, delete, keygen.",
        group=True,
    ),
)

BUILTIN_NAMES: frozenset[str] = frozenset(b.name for b in BUILTINS)
