"""``python -m fapiao_provider_b.sandbox --port 8000 [--tls]``: run the sandbox in the
foreground with the documented demo app and seller (see the plugin README)."""

from __future__ import annotations

from fapiao.sandboxkit import run_forever, server_argument_parser
from fapiao_provider_b.sandbox import DEMO_APP, DEMO_SELLER, SandboxConfig, create_app


def main(argv: list[str] | None = None) -> None:
    parser = server_argument_parser(
        "python -m fapiao_provider_b.sandbox", "Baiwang (百望云) protocol sandbox"
    )
    parser.add_argument("--token-ttl", type=int, default=8 * 3600, help="token life, seconds")
    parser.add_argument(
        "--rate-limit", type=float, default=None, help="business calls per second per app"
    )
    args = parser.parse_args(argv)
    config = SandboxConfig(token_ttl_seconds=args.token_ttl, rate_limit_per_second=args.rate_limit)
    print(
        f"demo app: appKey={DEMO_APP.app_key} username={DEMO_APP.username} "
        f"seller taxNo={DEMO_SELLER.tax_no} (secrets: see the plugin README)",
        flush=True,
    )
    run_forever(create_app(config), args.host, args.port, args.tls, log_level=args.log_level)


if __name__ == "__main__":
    main()
