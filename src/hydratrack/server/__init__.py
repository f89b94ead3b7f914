"""The hydratrack server: REST API (docs/api.md), auth, queues, store, files.

Layout: ``settings`` (the settings table the CLI flags come from), ``runner`` (opens the
store, first start, uvicorn), ``app`` (routers, error shape, limits, sweeper, web UI),
``api/`` (one module per resource; no SQL), ``auth``, ``files``, ``lease``, ``wakeup``,
``store/`` (tables, Alembic migrations and the repository modules: the only SQL).
Nothing here is imported by ``import hydratrack``.
"""
