"""What an error answer must not tell a remote caller: where the server keeps its files.

Why: the engine's own messages are written for the person running it — a ``CONFIG_ERROR``
says "add it under [routing] in /srv/fapiao/conf/fapiao.toml", which the CLI rightly shows.
Sent over HTTP the same words give every caller the server's file layout. The gateway keeps
what is wrong and where to fix it (the key, the section) and replaces each absolute path
with what it is: the server's configuration, or a file on the server.
"""

from __future__ import annotations

import re

__all__ = ["without_server_paths"]

_SEGMENT = r"[^\s/\\:：，。；、（）()\[\]{}<>'\"`,;]+"
_ABSOLUTE_PATH = re.compile(
    # not inside a word, a URL or a relative path: "/v1/x" of "https://h/v1/x" stays
    rf"(?<![A-Za-z0-9_.\\/])(?:[A-Za-z]:[\\/]|/)(?:{_SEGMENT}[\\/])*{_SEGMENT}(?::\d+)?"
)
_LINE = re.compile(r":\d+$")

_WORDS = {
    "zh": ("服务端配置文件", "服务端文件"),
    "en": ("the server's configuration", "a file on the server"),
}


def without_server_paths(text: str, language: str) -> str:
    """``text`` with every absolute file path replaced by what it is, in ``language``
    (``"zh"`` or ``"en"``): a ``.toml`` file is the server's configuration."""
    config, other = _WORDS.get(language, _WORDS["en"])

    def replace(match: re.Match[str]) -> str:
        path = match.group(0)
        kept = len(path) - len(path.rstrip("."))  # a sentence's full stop is not the path's
        path = path[: len(path) - kept]
        name = _LINE.sub("", path)
        return (config if name.endswith(".toml") else other) + "." * kept

    return _ABSOLUTE_PATH.sub(replace, text)
