"""One module per CLI command (or command group), imported only when its command is used;
``fapiao.cli.builtins`` names each one."""
