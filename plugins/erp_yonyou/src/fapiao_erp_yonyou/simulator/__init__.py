"""A simulator of the YonBIP open API (token, sales invoice/order queries, write-back, event
push) for tests and demos: ``python -m fapiao_erp_yonyou.simulator --port N``."""

from fapiao_erp_yonyou.simulator.app import SimulatorConfig, YonyouSimulator, create_app

__all__ = ["SimulatorConfig", "YonyouSimulator", "create_app"]
