"""Pipeline steps: plain Python, testable without a scheduler; the DAGs only wire them."""
