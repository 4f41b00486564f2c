"""Connect arguments for an Airflow metadata DB on SQLite shared by several local processes
(scheduler, API server, CLI): wait for a lock instead of failing at once."""

CONNECT_ARGS = {"timeout": 30}
