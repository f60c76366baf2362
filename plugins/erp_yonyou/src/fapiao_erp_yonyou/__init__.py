"""fapiao connector for Yonyou YonBIP / BIP: sales invoices (or orders) in, invoice results out."""

from fapiao_erp_yonyou.connector import YonyouConnector
from fapiao_erp_yonyou.events import YonyouEvent, parse_event
from fapiao_erp_yonyou.settings import SellerOrg, YonyouSettings

__all__ = ["SellerOrg", "YonyouConnector", "YonyouEvent", "YonyouSettings", "parse_event"]
