"""A pipeline worker process for the SIGKILL test: intake, pending, results, in a loop."""

import os
from datetime import timedelta
from pathlib import Path

from lienthong.clients.http import RetryPolicy
from lienthong.clients.ioffice import IOfficeClient, IOfficeSettings
from lienthong.clients.portal import PortalClient, PortalSettings
from lienthong.pipeline import intake, results
from lienthong.pipeline.resources import Resources
from lienthong.store.engine import get_engine
from lienthong.store.ledger import RunContext
from lienthong_standins.harness import CLIENT_ID, CLIENT_SECRET, IOFFICE_TOKEN
from lienthong_standins.routing import demo_routing

retry = RetryPolicy(attempts=5, backoff=0.05, backoff_max=0.2)
res = Resources(
    portal=PortalClient(
        PortalSettings(
            base_url=os.environ["LT_PORTAL"],
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            retry=retry,
            page_size=50,
        )
    ),
    ioffice=IOfficeClient(
        IOfficeSettings(
            base_url=os.environ["LT_IOFFICE"],
            token=IOFFICE_TOKEN,
            retry=retry,
            trust_roots_pem=Path(os.environ["LT_TRUST"]).read_text(),
        )
    ),
    engine=get_engine(os.environ["LT_STORE"]),
    routing=demo_routing(),
    batch_size=25,
    concurrency=4,
    claim_ttl=timedelta(seconds=3),  # a killed worker's claims are taken over within the test
)
ctx = RunContext(f"worker-{os.getpid()}", "loop")
for _ in range(3):
    intake.pull_and_link(
        res, ctx, intake.scheduled_window(res, timedelta(minutes=10)), advance_cursor=True
    )
    intake.complete_pending(res, ctx)
    results.process_packages(res, ctx)
