"""``python -m fapiao_erp_yonyou.simulator --port N``: serve the YonBIP simulator."""

from __future__ import annotations

from fapiao.sandboxkit.server import run_forever, server_argument_parser
from fapiao_erp_yonyou.simulator.app import SimulatorConfig, create_app


def main() -> None:
    parser = server_argument_parser(
        "python -m fapiao_erp_yonyou.simulator", "Yonyou YonBIP open-API simulator"
    )
    config = SimulatorConfig()
    parser.add_argument("--app-key", default=config.app_key)
    parser.add_argument("--app-secret", default=config.app_secret)
    parser.add_argument("--token-ttl", type=int, default=config.token_ttl_seconds)
    args = parser.parse_args()
    app = create_app(
        SimulatorConfig(
            app_key=args.app_key, app_secret=args.app_secret, token_ttl_seconds=args.token_ttl
        )
    )
    run_forever(app, args.host, args.port, args.tls, log_level=args.log_level)


if __name__ == "__main__":
    main()
