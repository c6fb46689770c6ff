"""Bounded concurrency over one shared sync client: a small thread pool, results kept per item.

Rate limits, not threads, bound the request rate; a few threads only hide latency. One item's failure is recorded
against that item and the rest go on, except for errors that mean "stop everything" (a daily quota, the deadline):
then the items not yet started are cancelled, and the results so far are returned together with the stop error so
that the caller keeps what was pulled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from .errors import DeadlineError, HttpError, QuotaError

__all__ = ["BoundedRun", "TaskResult", "run_bounded"]

I = TypeVar("I")  # noqa: E741 - item
R = TypeVar("R")

STOP_ERRORS: tuple[type[HttpError], ...] = (QuotaError, DeadlineError)


@dataclass
class TaskResult(Generic[I, R]):
    item: I
    value: R | None = None
    error: Exception | None = None
    ran: bool = False


@dataclass
class BoundedRun(Generic[I, R]):
    results: list[TaskResult[I, R]] = field(default_factory=list)
    stopped: Exception | None = None

    @property
    def values(self) -> list[R]:
        return [r.value for r in self.results if r.ran and r.error is None and r.value is not None]

    @property
    def errors(self) -> list[TaskResult[I, R]]:
        return [r for r in self.results if r.error is not None]


def run_bounded(
    fn: Callable[[I], R],
    items: Iterable[I],
    *,
    workers: int,
    catch: tuple[type[Exception], ...] = (HttpError,),
    stop_on: tuple[type[Exception], ...] = STOP_ERRORS,
) -> BoundedRun[I, R]:
    """Run ``fn`` on every item with at most ``workers`` threads. Errors in ``catch`` are kept per item; errors
    in ``stop_on`` cancel what has not started; anything else propagates (a bug is not data)."""
    run: BoundedRun[I, R] = BoundedRun(results=[TaskResult(item) for item in items])
    if not run.results:
        return run

    def call(result: TaskResult[I, R]) -> None:
        result.ran = True
        try:
            result.value = fn(result.item)
        except catch as exc:
            result.error = exc

    def check(result: TaskResult[I, R]) -> bool:
        if run.stopped is None and isinstance(result.error, stop_on):
            run.stopped = result.error
        return run.stopped is not None

    if workers <= 1:
        for result in run.results:
            call(result)
            if check(result):
                break
        return run

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stackaudit-http") as pool:
        pending: dict[Future[None], TaskResult[I, R]] = {}
        queue = iter(run.results)
        for result in queue:
            pending[pool.submit(call, result)] = result
            if len(pending) >= workers * 2:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                result = pending.pop(fut)
                fut.result()  # re-raise what `catch` did not cover
                check(result)
            if run.stopped is None:
                for result in queue:
                    pending[pool.submit(call, result)] = result
                    if len(pending) >= workers * 2:
                        break
    return run
