"""The Python SDK: ``Task``/``Logger`` (re-exported by ``hydratrack``), the background
sender, transports (``hydratrack.sdk.transport``: HTTP, spool, mock), script and Hydra
capture. Modules load on first use, so importing this package costs nothing.
"""
