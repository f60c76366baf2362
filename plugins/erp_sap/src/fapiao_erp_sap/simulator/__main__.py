"""``python -m fapiao_erp_sap.simulator --port 8090``: serve the SAP OData simulator."""

from __future__ import annotations

import argparse

import uvicorn

from fapiao_erp_sap.simulator.app import SapSimulator, create_app
from fapiao_erp_sap.simulator.data import SapData


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="SAP S/4HANA OData v2 simulator for fapiao")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--invoices", type=int, default=24, help="F2 invoices to generate")
    parser.add_argument("--no-history", action="store_true", help="no S1/G2 of earlier invoices")
    parser.add_argument("--page-size", type=int, default=100, help="server-driven page size")
    args = parser.parse_args(argv)
    sim = SapSimulator(
        data=SapData(seed=args.seed, invoices=args.invoices, history=not args.no_history),
        page_size=args.page_size,
    )
    user, password = next(iter(sim.users.items()))
    client_id, secret = next(iter(sim.oauth_clients.items()))
    print(
        f"SAP simulator on http://{args.host}:{args.port}/sap/opu/odata/sap/ (client {sim.client})"
    )
    print(f"  basic auth {user} / {password}; OAuth client {client_id} / {secret} at /oauth/token")
    uvicorn.run(create_app(sim), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
