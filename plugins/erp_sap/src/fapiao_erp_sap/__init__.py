"""fapiao connector for SAP S/4HANA billing documents (OData v2), with an OData simulator."""

from fapiao_erp_sap.connector import SapConnector
from fapiao_erp_sap.settings import SapSettings, SellerProfile

__all__ = ["SapConnector", "SapSettings", "SellerProfile"]
