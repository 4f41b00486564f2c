"""The operators' dashboard: a FastAPI app mounted in Airflow's api-server by a plugin."""
