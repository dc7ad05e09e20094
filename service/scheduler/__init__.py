"""APScheduler runtime: the jobs of jobs.py, run by one leader among the replicas."""

from service.scheduler.runtime import Leadership, create_scheduler

__all__ = ["Leadership", "create_scheduler"]
