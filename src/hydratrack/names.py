"""Names the SDK, the agent, the edits and the server must agree on, spelled here only.

A run records its Hydra capture under these names, the server validates edits by them and
the agent replays them (docs/contracts.md). The module imports nothing: the SDK loads it on
its start-up path. ``tests/unit/test_names.py`` fails when another module spells one of
these values itself.
"""

# -- what a Hydra run records -------------------------------------------------------------
# Hyperparameter section with one entry per command-line override (key and value as typed).
HYDRA_SECTION = "Hydra"
# Entry of HYDRA_SECTION: "False" = replay the entries as overrides, "True" = the edited
# OmegaConf object is the job config.
ALLOW_EDIT_KEY = "_allow_omegaconf_edit_"
# Configuration object holding the composed job config as YAML text ...
CONFIG_OBJECT = "OmegaConf"
# ... and the type of a configuration object whose value is OmegaConf YAML.
CONFIG_TYPE = "OmegaConf"
# Start of the ``hydra.callbacks.*`` overrides the agent adds (never recorded as the run's).
OWN_CALLBACK_PREFIX = "hydra.callbacks.hydratrack"

# -- environment variables ----------------------------------------------------------------
API_HOST_ENV = "HYDRATRACK_API_HOST"
ACCESS_KEY_ENV = "HYDRATRACK_ACCESS_KEY"
SECRET_KEY_ENV = "HYDRATRACK_SECRET_KEY"
OFFLINE_ENV = "HYDRATRACK_OFFLINE"
CONFIG_FILE_ENV = "HYDRATRACK_CONFIG_FILE"  # the client config file (~/.hydratrack/config.toml)
# Set by the agent for the task's process: the run records into this existing task.
TASK_ID_ENV = "HYDRATRACK_TASK_ID"
# "1", set by the agent: it captures the child's console, so the SDK does not.
CONSOLE_BY_AGENT_ENV = "HYDRATRACK_CONSOLE_BY_AGENT"
# Set by the agent in OmegaConf-edit mode: the edited text the Hydra callback applies.
EDIT_FILE_ENV = "HYDRATRACK_EDIT_FILE"
SPOOL_DIR_ENV = "HYDRATRACK_SPOOL_DIR"  # the SDK's offline spool (~/.hydratrack/spool)
EXIT_TIMEOUT_ENV = "HYDRATRACK_EXIT_TIMEOUT"  # seconds a run's exit waits for its data
DEBUG_ENV = "HYDRATRACK_DEBUG"  # the CLI prints the traceback of an error
