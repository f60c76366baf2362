"""The service's routes, one router per concern, in the order ``create_app`` includes them
(which is the order of the OpenAPI document)."""

from __future__ import annotations

from fastapi import APIRouter

from . import callbacks, deliveries, docs, documents, invoices, ops, red, sellers

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    callbacks.router,
    invoices.router,
    documents.router,
    red.router,
    deliveries.router,
    sellers.router,
    ops.router,
    docs.router,
)
