"""Background jobs in their own process: the web app queues :class:`~anju.ops.models.Job` rows, ``anju worker``
claims and runs them (ingest, release, text-model training) and records progress, results and errors."""

from anju.worker.jobs import JOB_KINDS, enqueue, job_handler
from anju.worker.runner import claim_next, recover_stale, run_job, run_worker, spawn_worker

__all__ = ["JOB_KINDS", "claim_next", "enqueue", "job_handler", "recover_stale", "run_job", "run_worker",
           "spawn_worker"]
