"""The query worker pool on its own: real worker processes over the built dataset, driven from asyncio."""

import asyncio
import json

from statecraft.workers import QueryJob, QueryTimedOut, StoreSource, WorkerPool

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
JSON = "application/sparql-results+json"


def ask(text: str) -> QueryJob:
    return QueryJob(query=text, result_format=JSON)


def test_a_cancelled_request_never_hands_its_answer_to_the_next_query(built):
    """A client that goes away mid-query leaves its worker owing an answer; the next query on that
    worker must get its own answer, not the abandoned one."""

    async def scenario():
        pool = WorkerPool(StoreSource(nquads_files=(built.dist / "statecraft.nq",)), size=1, query_timeout=2)
        await pool.start()
        try:
            abandoned = asyncio.ensure_future(pool.run(ask("SELECT ?s WHERE { ?s ?p ?o } LIMIT 3")))
            await asyncio.sleep(0)  # the job is sent; cancel before its answer is read
            abandoned.cancel()
            answers = [json.loads((await pool.run(ask(f"ASK {{ FILTER({n} = {n}) }}"))).body) for n in range(3)]
            slow = asyncio.ensure_future(pool.run(ask(RUNAWAY)))
            await asyncio.sleep(0.3)
            slow.cancel()
            after_runaway = json.loads((await pool.run(ask("ASK { FILTER(false) }"))).body)
            return answers, after_runaway, pool.abandoned, pool.restarts
        finally:
            await pool.close()

    answers, after_runaway, abandoned, restarts = asyncio.run(scenario())
    assert answers == [{"head": {}, "boolean": True}] * 3
    assert after_runaway == {"head": {}, "boolean": False}
    # the abandoned runaway query did not finish within the grace period: its worker was replaced
    assert abandoned == 1 and restarts == 1


def test_time_limit_stops_the_worker_and_the_pool_recovers(built):
    async def scenario():
        pool = WorkerPool(StoreSource(nquads_files=(built.dist / "statecraft.nq",)), size=1, query_timeout=1)
        await pool.start()
        try:
            try:
                await pool.run(ask(RUNAWAY))
                stopped = None
            except QueryTimedOut as failure:
                stopped = failure.status
            recovered = json.loads((await pool.run(ask("ASK {}"))).body)["boolean"]
            return stopped, recovered
        finally:
            await pool.close()

    assert asyncio.run(scenario()) == (503, True)
