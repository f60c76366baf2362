"""``python -m fapiao_provider_a.sandbox --port 8000 [--tls] [--delay 0.05]``"""

from __future__ import annotations

from fapiao.sandboxkit import run_forever, server_argument_parser
from fapiao_provider_a.sandbox import (
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_TAX_ID,
    SandboxConfig,
    create_app,
)


def main() -> None:
    parser = server_argument_parser("fapiao_provider_a.sandbox", "Nuonuo protocol sandbox")
    parser.add_argument("--delay", type=float, default=0.05, help="开票中 → 开票完成 seconds")
    parser.add_argument("--no-callbacks", action="store_true", help="do not send callbacks")
    args = parser.parse_args()
    print(f"demo merchant: appKey={DEMO_APP_KEY} appSecret={DEMO_APP_SECRET} userTax={DEMO_TAX_ID}")
    app = create_app(SandboxConfig(issue_delay_seconds=args.delay, callbacks=not args.no_callbacks))
    run_forever(app, host=args.host, port=args.port, tls=args.tls)


if __name__ == "__main__":
    main()
