"""The thin layer between Airflow and the plain-Python pipeline: resources from Connections,
the deferrable trigger, run summaries."""
