"""The outcome of fitting, training, evaluating or benchmarking a model: one `Status` for all of them.

    Status.OK        "ok": a usable result (a finite model, free run and metrics)
    Status.DIVERGED  "diverged": a result, but the loss, the parameters, the free run or a metric became
                     non-finite (or left the bounded region the caller checks)
    Status.FAILED    "failed": no result (fitting raised, a run timed out, a worker died)

`Status` is a `str` enum: `Status.OK == "ok"`, `str(Status.OK) == "ok"`, JSON and SQLite store the plain string,
and statuses read back from files compare equal to the members.
"""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    OK = "ok"
    DIVERGED = "diverged"
    FAILED = "failed"


STATUSES = tuple(Status)

__all__ = ["Status", "STATUSES"]
