"""The compare report in a real browser: Debian's chromium, headless, driven over the
DevTools protocol (aiohttp's websocket client, already a core dependency).

The setup installs chromium (and a CJK font, so the screenshot shows Chinese text) with
apt-get when missing; if that fails the test fails: a report nobody has seen render is not
tested. Checks: the page loads with no console error, no exception and no request beyond
the file itself (self-contained), the three charts are there with real size and content,
and a screenshot is taken. ``FAPIAO_SCREENSHOT_TO=path.png`` also renders
docs/compare-example.html to that path (how the docs screenshot is made).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from fapiao.tools.compare import compare_sandboxes, write_report
from fapiao.tools.compare.pricing import load_pricing

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--window-size=1280,900",
    "--remote-debugging-port=0",
]


def _apt_install(*packages: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", *packages], check=True, env=env, capture_output=True
    )


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium, installed here if missing (failing, not skipping, if it can't be)."""
    wanted = []
    if not Path(CHROMIUM).exists():
        wanted.append("chromium")
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True)
    if fonts.returncode != 0 or not fonts.stdout.strip():
        wanted.append("fonts-wqy-microhei")
    if wanted:
        _apt_install(*wanted)
    assert Path(CHROMIUM).exists(), "chromium could not be installed"
    return CHROMIUM


class Page:
    """One headless chromium tab, driven over the DevTools protocol."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self._next = 0

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        await self.ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads((await self.ws.receive(timeout=30)).data)
            if message.get("id") == ident:
                assert "error" not in message, message
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)

    async def wait_event(self, method: str, within: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            left = deadline - time.monotonic()
            assert left > 0, f"no {method} within {within} s"
            message = await self.ws.receive(timeout=left)
            self.events.append(json.loads(message.data))

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")


@pytest.fixture
def browser(chromium: str) -> Iterator[str]:
    """A running headless chromium with a fresh profile; yields its DevTools base URL."""
    profile = tempfile.mkdtemp(prefix="fapiao-chromium-")
    process = subprocess.Popen(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            assert process.poll() is None, "chromium exited at start"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.05)
        port = port_file.read_text().split()[0]
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


async def render(devtools: str, html: Path, screenshot: Path) -> dict[str, Any]:
    """Load ``html``, collect problems and facts about the charts, save a full-page PNG."""
    url = html.resolve().as_uri()  # noqa: ASYNC240 - a path computation, no I/O worth a thread
    async with aiohttp.ClientSession() as session:
        async with session.put(f"{devtools}/json/new?about:blank") as response:
            target = await response.json(content_type=None)
        async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            page = Page(ws)
            for domain in ("Page", "Runtime", "Log", "Network"):
                await page.send(f"{domain}.enable")
            await page.send("Page.navigate", url=url)
            await page.wait_event("Page.loadEventFired")
            await asyncio.sleep(0.2)  # let late console messages arrive
            facts = await page.evaluate(
                """(() => {
                  const charts = [...document.querySelectorAll('svg.chart')].map(svg => {
                    const box = svg.getBoundingClientRect();
                    return {name: svg.dataset.chart, width: box.width, height: box.height,
                            shapes: svg.querySelectorAll('rect, circle, line').length,
                            title: svg.querySelector('title')?.textContent || ''};
                  });
                  return {title: document.title, charts,
                          sections: document.querySelectorAll('section').length,
                          tables: document.querySelectorAll('table').length,
                          text: document.body.innerText.length,
                          cjk: /[\\u4e00-\\u9fff]/.test(document.body.innerText),
                          scripts: document.scripts.length,
                          height: document.documentElement.scrollHeight};
                })()"""
            )
            metrics = await page.send("Page.getLayoutMetrics")
            size = metrics["cssContentSize"]
            shot = await page.send(
                "Page.captureScreenshot",
                format="png",
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
            )
            png = base64.b64decode(shot["data"])
            await asyncio.sleep(0.1)
            try:
                while True:
                    message = await ws.receive(timeout=0.05)
                    page.events.append(json.loads(message.data))
            except (TimeoutError, json.JSONDecodeError, TypeError):
                pass
    await asyncio.to_thread(screenshot.write_bytes, png)
    events = page.events
    facts["console_errors"] = [
        e["params"]
        for e in events
        if e.get("method") == "Runtime.consoleAPICalled"
        and e["params"]["type"] in {"error", "assert", "warning"}
    ]
    facts["exceptions"] = [
        e["params"] for e in events if e.get("method") == "Runtime.exceptionThrown"
    ]
    facts["log_errors"] = [
        e["params"]["entry"]
        for e in events
        if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error"
    ]
    facts["requests"] = [
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    return facts


def _assert_renders(facts: dict[str, Any], html: Path, screenshot: Path) -> None:
    assert facts["console_errors"] == [], facts["console_errors"]
    assert facts["exceptions"] == [], facts["exceptions"]
    assert facts["log_errors"] == [], facts["log_errors"]
    assert facts["scripts"] == 0
    external = [u for u in facts["requests"] if u != html.resolve().as_uri()]
    assert external == [], f"the report fetched something: {external}"
    assert facts["title"].startswith("fapiao compare:")
    assert facts["sections"] >= 6 and facts["tables"] >= 5 and facts["cjk"]
    charts = {c["name"]: c for c in facts["charts"]}
    assert set(charts) == {"latency", "throughput", "cost"}, charts
    for chart in charts.values():
        assert chart["width"] > 300 and chart["height"] > 60, chart
        assert chart["shapes"] >= 4, chart
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 20_000  # a real picture, not a blank page


async def test_fresh_report_renders_in_chromium(browser: str, tmp_path: Path) -> None:
    comparison = await asyncio.to_thread(
        compare_sandboxes,
        ["nuonuo", "baiwang"],
        burst=8,
        concurrency=4,
        pricing=load_pricing(ROOT / "examples" / "pricing.toml"),
    )
    html, _json = write_report(comparison, tmp_path)
    screenshot = tmp_path / "report.png"
    started = time.monotonic()
    facts = await render(browser, html, screenshot)
    _assert_renders(facts, html, screenshot)
    assert time.monotonic() - started < 60
    box_shapes = next(c for c in facts["charts"] if c["name"] == "latency")["shapes"]
    assert box_shapes >= 2 * 4 * 3  # several operations x two profiles x box, median, whisker


async def test_docs_example_renders_in_chromium(browser: str, tmp_path: Path) -> None:
    html = ROOT / "docs" / "compare-example.html"
    target = os.environ.get("FAPIAO_SCREENSHOT_TO")
    screenshot = Path(target) if target else tmp_path / "example.png"
    facts = await render(browser, html, screenshot)
    _assert_renders(facts, html, screenshot)
    data = json.loads((ROOT / "docs" / "compare-example.json").read_text(encoding="utf-8"))
    assert [p["profile"] for p in data["profiles"]] == ["nuonuo", "baiwang"]
