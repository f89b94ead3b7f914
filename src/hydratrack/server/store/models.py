"""Tables of the store (SQLAlchemy Core). Migrations in ``migrations/`` create them.

Times are naive UTC ``DateTime`` columns; event times (``ts``) are float epoch seconds
as sent by clients. Ids are 32-char hex strings.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(32)
NAME = String(255)

users = Table(
    "users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", NAME, nullable=False, unique=True),
    Column("password_hash", String(300), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),  # role == "admin"
    Column("created", DateTime, nullable=False),
    Column("role", String(16), nullable=False, server_default="member"),
    Column("disabled", Boolean, nullable=False, server_default=false()),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("access_key", String(64), primary_key=True),
    Column("secret_hash", String(128), nullable=False),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("label", String(255), nullable=False, default=""),
    Column("created", DateTime, nullable=False),
    Column("last_used", DateTime),
    # "user": a person's key; "agent": serves queues only; "task": one task's token
    Column("scope", String(16), nullable=False, server_default="user"),
    Column("task_id", ID, index=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created", DateTime, nullable=False),
    Column("expires", DateTime, nullable=False),
    Column("last_seen", DateTime),
)

login_tokens = Table(
    "login_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("expires", DateTime, nullable=False),
    Column("used", Boolean, nullable=False, default=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", NAME, nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("created", DateTime, nullable=False),
    Column("last_activity", DateTime),
    Column("owner_id", ID),
)

project_permissions = Table(
    "project_permissions",
    metadata,
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("level", String(16), nullable=False),  # read | edit | manage
)

queues = Table(
    "queues",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", NAME, nullable=False, unique=True),
    Column("created", DateTime, nullable=False),
    # a task whose worker was lost: "fail", or "requeue" up to lost_worker_retries times
    Column("lost_worker_policy", String(16), nullable=False, server_default="fail"),
    Column("lost_worker_retries", Integer, nullable=False, server_default="0"),
    Column("owner_id", ID),
    Column("access", String(16), nullable=False, server_default="members"),  # | "granted"
)

queue_permissions = Table(
    "queue_permissions",
    metadata,
    Column("queue_id", ID, ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

workers = Table(
    "workers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", NAME, nullable=False, unique=True),
    Column("queues", JSON, nullable=False),
    Column("user_id", ID, ForeignKey("users.id", ondelete="SET NULL")),
    Column("registered", DateTime, nullable=False),
    Column("last_heartbeat", DateTime),
    Column("access_key", String(64)),  # the key the name is bound to
    Column("limits", JSON),  # {"users": [...], "projects": [...]}: tasks it may take
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", NAME, nullable=False),
    Column("type", String(64), nullable=False, default="training"),
    Column("project_id", ID, ForeignKey("projects.id"), nullable=False),
    Column("status", String(32), nullable=False),
    Column("status_message", Text, nullable=False, default=""),
    Column("status_reason", Text, nullable=False, default=""),
    Column("parent_id", ID, index=True),
    Column("user_id", ID, ForeignKey("users.id", ondelete="SET NULL")),
    Column("tags", JSON, nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("archived", Boolean, nullable=False, default=False),
    Column("created", DateTime, nullable=False),
    Column("started", DateTime),
    Column("completed", DateTime),
    Column("last_update", DateTime, nullable=False),
    Column("queue_id", ID),
    Column("worker_id", ID),
    Column("abort_requested", Boolean, nullable=False, default=False),
    Column("lease_expires", DateTime),
    Column("script", JSON, nullable=False),
    Column("runtime", JSON, nullable=False),
    Column("console_seq", Integer, nullable=False, default=-1),
    # claims since it was enqueued; its queue place (a re-queued task goes back there)
    Column("attempt", Integer, nullable=False, server_default="0"),
    Column("queue_priority", Integer, nullable=False, server_default="0"),
    Column("enqueued", DateTime),
    Index(None, "project_id", "archived", "created"),
    Index(None, "status", "created"),
    Index(None, "archived", "created"),
    Index(None, "name"),
    Index(None, "last_update"),
    Index(None, "archived", "last_update"),
    Index(None, "archived", "name"),
    Index(None, "worker_id"),
    Index(None, "lease_expires"),
    Index(None, "id", "archived", "created"),  # covering: matches of a param filter
    Index(None, "archived", "started"),
    Index(None, "archived", "status", "created"),
)

task_tags = Table(
    "task_tags",
    metadata,
    Column("task_id", ID, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", NAME, primary_key=True),
    Index(None, "tag"),
)

hyperparams = Table(
    "hyperparams",
    metadata,
    Column("task_id", ID, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("section", NAME, primary_key=True),
    Column("name", String(1000), primary_key=True),
    Column("value", Text, nullable=False, default=""),
    Column("type", String(64), nullable=False, default="str"),
    Column("description", Text, nullable=False, default=""),
    Column("position", Integer, nullable=False, default=0),
    # indexed stand-in for value (long values do not fit a btree entry on PostgreSQL)
    Column("value_prefix", String(200), nullable=False, default=""),
    Index(None, "section", "name", "value_prefix", "task_id"),  # covering: the filter
)

configuration = Table(
    "configuration",
    metadata,
    Column("task_id", ID, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("name", NAME, primary_key=True),
    Column("value", Text, nullable=False, default=""),
    Column("type", String(64), nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
)

# scalars: one row per series (a task's metric/variant), its points, and its rollup
# (a downsampled copy kept at ingest, see ``store/rollup.py``)
scalar_series = Table(
    "scalar_series",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task_id", ID, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("metric", NAME, nullable=False),
    Column("variant", NAME, nullable=False),
    Column("points", Integer, nullable=False),  # how many were stored: the next seq
    UniqueConstraint("task_id", "metric", "variant"),
)

# clustered by its key on SQLite (one B-tree to append to, no second index). No foreign
# key: checking it cost ~5 us per point on PostgreSQL; points are written only for a
# series just looked up, and a trigger (migration 0005) deletes them with their series.
scalar_points = Table(
    "scalar_points",
    metadata,
    Column("series_id", Integer, primary_key=True, autoincrement=False),
    Column("iter", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, primary_key=True, autoincrement=False),  # arrival order
    Column("value", Float),  # NULL: the run reported NaN or an infinity
    Column("ts", Float, nullable=False),
    sqlite_with_rowid=False,
)

scalar_rollup = Table(
    "scalar_rollup",
    metadata,
    Column(
        "series_id", Integer, ForeignKey("scalar_series.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("bucket", BigInteger, primary_key=True, autoincrement=False),
    Column("first_iter", Integer, nullable=False),
    Column("first_value", Float),
    Column("first_ts", Float, nullable=False),
    Column("min_iter", Integer),  # min/max NULL: the bucket holds only NULL values
    Column("min_value", Float),
    Column("min_ts", Float),
    Column("max_iter", Integer),
    Column("max_value", Float),
    Column("max_ts", Float),
)

metric_summaries = Table(
    "metric_summaries",
    metadata,
    Column("task_id", ID, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("metric", NAME, primary_key=True),
    Column("variant", NAME, primary_key=True),
    Column("value", Float, nullable=False),
    Column("iter", Integer, nullable=False),
    Column("min", Float, nullable=False),
    Column("max", Float, nullable=False),
    Column("count", Integer, nullable=False),
)

console = Table(
    "console",
    metadata,
    Column("task_id", ID, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("ts", Float, nullable=False),
    Column("stream", String(16), nullable=False),
    Column("text", Text, nullable=False),
)

texts = Table(
    "texts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task_id", ID, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("title", NAME, nullable=False),
    Column("text", Text, nullable=False),
    Column("iter", Integer, nullable=False, default=0),
    Column("ts", Float, nullable=False),
)

event_batches = Table(
    "event_batches",
    metadata,
    Column("task_id", ID, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("batch_id", String(128), primary_key=True),
    Column("accepted", Integer, nullable=False),
    Column("created", DateTime, nullable=False),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("task_id", ID, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("name", NAME, primary_key=True),
    Column("uri", Text, nullable=False),
    Column("size", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("meta", JSON, nullable=False),
    Column("created", DateTime, nullable=False),
)

queue_entries = Table(
    "queue_entries",
    metadata,
    Column("task_id", ID, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True),
    Column("queue_id", ID, ForeignKey("queues.id", ondelete="CASCADE"), nullable=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("added", DateTime, nullable=False),
    Index(None, "queue_id", "priority", "added"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("time", DateTime, nullable=False, index=True),
    Column("user_id", ID),  # no foreign key: the record outlives a deleted user
    Column("user_name", NAME, index=True),
    Column("via", String(16)),  # "key", "session" or none (a failed login)
    Column("access_key", String(64)),
    Column("address", String(64)),
    Column("action", String(64), nullable=False, index=True),
    Column("target_type", String(32)),
    Column("target_id", String(255), index=True),
    Column("detail", JSON, nullable=False),
)
