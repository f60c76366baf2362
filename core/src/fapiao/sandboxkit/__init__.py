"""Shared machinery of provider sandboxes: real servers on loopback, fault injection, signed
callbacks, a movable business clock, invoice numbers and invoice documents (PDF, OFD, XML).

A sandbox is usually assembled like this::

    injector = FaultInjector()
    callbacks = CallbackSender(sign_vendor_style, injector=injector)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        async with callbacks.running():      # stops (and drains) with the server
            yield

    app = FaultMiddleware(Starlette(routes=..., lifespan=lifespan), injector,
                          applies_to=lambda scope: scope["path"].startswith("/api/"))
    with serve(app, tls=True) as server:     # server.base_url, server.ca_file
        ...

and documents come from ``render(document_data_from_invoice(...), "pdf")``. Rendering
PDF needs the ``sandbox`` extra (reportlab), imported on first use, so the rest works
without it.
"""

from fapiao.sandboxkit.callbacks import (
    BuildCallback,
    CallbackDelivery,
    CallbackRequest,
    CallbackSender,
)
from fapiao.sandboxkit.clock import SandboxClock
from fapiao.sandboxkit.faults import (
    FAULT_HEADER,
    FaultConfig,
    FaultDecision,
    FaultHeaderError,
    FaultInjector,
    FaultMiddleware,
    abort_connection,
    add_latency,
    fault_admin_routes,
    fault_error_response,
    fault_of,
    parse_fault_header,
    request_fault,
)
from fapiao.sandboxkit.invoice_numbers import (
    InvoiceNumberGenerator,
    is_invoice_number,
    parse_invoice_number,
    province_of_tax_id,
)
from fapiao.sandboxkit.memory import SandboxMemory
from fapiao.sandboxkit.red import RedFormLine, red_invoice_from_form
from fapiao.sandboxkit.render import (
    DocumentLine,
    DocumentParty,
    InvoiceDocumentData,
    document_data_from_invoice,
    rate_label,
    render,
    render_ofd,
    render_pdf,
    render_xml,
)
from fapiao.sandboxkit.server import (
    RunningServer,
    run_forever,
    serve,
    serve_sandbox,
    server_argument_parser,
)
from fapiao.sandboxkit.steering import steering_routes
from fapiao.sandboxkit.tls import TlsFiles, generate_tls_files, sandbox_tls_files
from fapiao.sandboxkit.tokens import SandboxToken, SandboxTokens

__all__ = [
    "FAULT_HEADER",
    "BuildCallback",
    "CallbackDelivery",
    "CallbackRequest",
    "CallbackSender",
    "DocumentLine",
    "DocumentParty",
    "FaultConfig",
    "FaultDecision",
    "FaultHeaderError",
    "FaultInjector",
    "FaultMiddleware",
    "InvoiceDocumentData",
    "InvoiceNumberGenerator",
    "RedFormLine",
    "RunningServer",
    "SandboxClock",
    "SandboxMemory",
    "SandboxToken",
    "SandboxTokens",
    "TlsFiles",
    "abort_connection",
    "add_latency",
    "document_data_from_invoice",
    "fault_admin_routes",
    "fault_error_response",
    "fault_of",
    "generate_tls_files",
    "is_invoice_number",
    "parse_fault_header",
    "parse_invoice_number",
    "province_of_tax_id",
    "rate_label",
    "red_invoice_from_form",
    "render",
    "render_ofd",
    "render_pdf",
    "render_xml",
    "request_fault",
    "run_forever",
    "sandbox_tls_files",
    "serve",
    "serve_sandbox",
    "server_argument_parser",
    "steering_routes",
]
