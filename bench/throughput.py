"""Throughput and latency of the main pages under gunicorn on PostgreSQL, against a bare
endpoint of the same app (/healthz) measured in the same run.

Creates a fresh database on the PostgreSQL server (BENCH_POSTGRES or --server, default
postgresql+psycopg://postgres@127.0.0.1:5432; uniquely named, dropped at the end), runs
`flask db upgrade` and `flask bench-seed --communities N` into it (the Lingyuan demo when
this checkout has no bench-seed: said on stderr and in `throughput_communities`), starts
gunicorn as README deploys it (ProductionConfig: random SECRET_KEY, sync workers, wsgi:app)
on a free local port, signs in through the login form as a street-office contract manager
(`bench-contract_manager`, or the demo's `hetong`) and then, with C client threads each on
its own keep-alive http.client connection (gunicorn's sync workers close it after each
response; the client reconnects, as a browser would), for a fixed time per phase:
  1. /healthz only, with the same session cookie as the pages   → bare_*
     (and without one, as a load balancer calls it, for context → bare_anonymous_*)
  2. the main pages in turn (home, agreements list, disbursements list, one agreement's
     ledger, records list), every client starting at a different page → page_*
  3. each page alone                                  → page_<name>_*
and stops gunicorn with SIGTERM.

    .venv/bin/python bench/throughput.py [--communities 2000] [--workers 4] [--clients 8]
                                         [--duration 10] [--server URL] [--keep]

Prints `name value` lines: bare_rps, bare_p50_ms, bare_p95_ms, page_rps, page_p50_ms,
page_p95_ms, the same per page, page_vs_bare_ratio (page_rps / bare_rps; goal ≥ 0.35) and
page_p95_ms (goal ≤ 150), page_vs_anonymous_bare_ratio (against /healthz without a
session), errors (non-200 answers; must be 0). The freshly seeded database is ANALYZEd first,
as autovacuum would have done on a live server (bench/server_common.analyze).

The clients run in this process on the same machine, so they take CPU from the workers.
The bare endpoint, with many more requests per second to make, is the more client-bound of
the two: a separate load machine would raise bare_rps more than page_rps, so the ratio
measured here flatters the pages somewhat. Rate limiting: the measured GETs carry no limit (only login posts, survey answers and
the API do); the login limit is raised so the benchmark's own sign-in never sees a 429, and
the limiter keeps its memory storage, one per worker (bench/server_common.production_env).
"""
import argparse
import http.client
import math
import re
import statistics
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_common import (DEMO_PASSWORD, bench_user, fresh_postgres,  # noqa: E402
                           gunicorn, migrate_and_seed, POSTGRES_SERVER, production_env)

USER_AGENT = "procurement-bench/1 (http.client)"
SESSION_COOKIE = "procurement_session"


class Client:
    """One keep-alive connection with the session cookie; reconnects when the server closed
    the connection (gunicorn's sync workers always do)."""

    def __init__(self, base: str, cookie: str | None = None):
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.headers = {"User-Agent": USER_AGENT, "Accept": "text/html"}
        if cookie:
            self.headers["Cookie"] = cookie

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict | None = None) -> http.client.HTTPResponse:
        all_headers = {**self.headers, **(headers or {})}
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=all_headers)
                response = self.connection.getresponse()
                response.body = response.read()
                if response.will_close:
                    self.connection.close()
                return response
            except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):
                self.connection.close()
                if attempt == 2:
                    raise

    def get(self, path: str) -> http.client.HTTPResponse:
        return self.request("GET", path)

    def close(self) -> None:
        self.connection.close()


def _session_cookie(response) -> str | None:
    for header in response.headers.get_all("Set-Cookie") or []:
        if header.startswith(f"{SESSION_COOKIE}="):
            return header.split(";", 1)[0]
    return None


def sign_in(base: str, username: str, password: str) -> str:
    """Through the login form, CSRF token included; returns the session cookie."""
    client = Client(base)
    form = client.get("/login")
    cookie = _session_cookie(form)
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', form.body)
    if token is None or cookie is None:
        sys.exit("the login page has no CSRF token or session cookie")
    client.headers["Cookie"] = cookie
    response = client.request(
        "POST", "/login", body=urlencode({"username": username, "password": password,
                                          "csrf_token": token.group(1).decode()}),
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    location = response.headers.get("Location", "")
    if response.status != 302 or "/login" in location or "/account/password" in location:
        sys.exit(f"signing in as {username} failed ({response.status} → {location!r})")
    client.close()
    return _session_cookie(response) or cookie


def main_pages(base: str, cookie: str) -> dict[str, str]:
    """The pages to measure; the ledger is the first agreement on the disbursements list."""
    client = Client(base, cookie)
    listing = client.get("/disbursements/")
    found = re.search(rb'href="/disbursements/(\d+)"', listing.body)
    if listing.status != 200 or found is None:
        sys.exit(f"no agreement on the disbursements list ({listing.status})")
    pages = {"home": "/", "agreements": "/contracts/", "disbursements": "/disbursements/",
             "ledger": f"/disbursements/{found.group(1).decode()}", "records": "/records/"}
    for name, path in pages.items():
        response = client.get(path)
        if response.status != 200:
            sys.exit(f"{name} ({path}) answered {response.status}")
    client.close()
    return pages


class Phase:
    """Latencies (seconds) per path and failures of one timed phase."""

    def __init__(self):
        self.latencies: dict[str, list[float]] = {}
        self.errors = 0
        self.elapsed = 0.0

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def all(self) -> list[float]:
        return [t for values in self.latencies.values() for t in values]


def run_phase(base: str, paths: list[str], clients: int, duration: float,
              cookie: str | None) -> Phase:
    """`clients` threads request `paths` in turn (each starting at a different one) until
    `duration` seconds have passed since they all started."""
    phase = Phase()
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def worker(n: int) -> None:
        client = Client(base, cookie)
        mine: dict[str, list[float]] = {path: [] for path in paths}
        errors = 0
        ready.wait()
        k = n
        while time.perf_counter() < stop_at[0]:
            path = paths[k % len(paths)]
            k += 1
            start = time.perf_counter()
            try:
                status = client.get(path).status
            except OSError:
                status = 0
            mine[path].append(time.perf_counter() - start)
            if status != 200:
                errors += 1
        client.close()
        with lock:
            for path, values in mine.items():
                phase.latencies.setdefault(path, []).extend(values)
            phase.errors += errors

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    stop_at[0] = start + duration
    ready.wait()
    for thread in threads:
        thread.join()
    phase.elapsed = time.perf_counter() - start
    return phase


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def figures(name: str, latencies: list[float], elapsed: float) -> dict[str, float]:
    return {f"{name}_requests": len(latencies),
            f"{name}_rps": len(latencies) / elapsed,
            f"{name}_p50_ms": statistics.median(latencies) * 1000,
            f"{name}_p95_ms": percentile(latencies, 95) * 1000}


def print_figures(values: dict[str, float]) -> None:
    for name, value in values.items():
        if isinstance(value, int):
            print(f"{name} {value}")
        else:
            print(f"{name} {value:.3f}" if name.endswith("ratio") else f"{name} {value:.1f}")


def existing(database_url: str) -> dict:
    """What an already seeded database holds, as migrate_and_seed reports it."""
    import psycopg

    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        communities = conn.execute("SELECT count(*) FROM communities").fetchone()[0]
        bench = conn.execute("SELECT count(*) FROM users WHERE username LIKE 'bench-%'"
                             ).fetchone()[0]
    return {"data": "bench-seed" if bench else "demo", "communities": communities,
            "seed_s": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--communities", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds of the bare and mixed phases (each page alone: half)")
    parser.add_argument("--server", default=POSTGRES_SERVER, help="PostgreSQL server URL")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--use-database", metavar="URL",
                        help="measure an already seeded database (neither created, seeded "
                             "nor dropped), e.g. one left by --keep")
    args = parser.parse_args()

    database = (nullcontext(args.use_database) if args.use_database
                else fresh_postgres(args.server, keep=args.keep))
    with tempfile.TemporaryDirectory(prefix="procurement-throughput-") as tmp, \
            database as database_url:
        instance = Path(tmp)
        env = production_env(database_url, instance)
        seeded = (existing(database_url) if args.use_database
                  else migrate_and_seed(env, args.communities))
        username = bench_user(seeded["data"], "contract_manager")
        with gunicorn(env, workers=args.workers, worker_class=args.worker_class,
                      log=instance / "gunicorn.log") as base:
            cookie = sign_in(base, username, DEMO_PASSWORD)
            pages = main_pages(base, cookie)
            # Warm every worker: templates compiled, connections in the pool, caches filled.
            run_phase(base, list(pages.values()) + ["/healthz"], args.clients, 3, cookie)
            # The bare endpoint with the same session as the pages: the floor every signed-in
            # request pays (WSGI, Flask, the session and its user, the limiter's check, the
            # security headers), so the ratio is what the pages' own work costs.
            bare = run_phase(base, ["/healthz"], args.clients, args.duration, cookie)
            # For context: as a load balancer calls it, without a session.
            anonymous = run_phase(base, ["/healthz"], args.clients, args.duration / 2, None)
            mixed = run_phase(base, list(pages.values()), args.clients, args.duration, cookie)
            alone = {name: run_phase(base, [path], args.clients, args.duration / 2, cookie)
                     for name, path in pages.items()}

    results: dict[str, float] = {
        "throughput_communities": seeded["communities"],
        "throughput_seed_s": seeded["seed_s"],
        "throughput_workers": args.workers,
        "throughput_clients": args.clients,
    }
    results.update(figures("bare", bare.all(), bare.elapsed))
    results.update(figures("bare_anonymous", anonymous.all(), anonymous.elapsed))
    results.update(figures("page", mixed.all(), mixed.elapsed))
    for name, phase in alone.items():
        results.update(figures(f"page_{name}", phase.all(), phase.elapsed))
    results["page_vs_bare_ratio"] = results["page_rps"] / results["bare_rps"]
    results["page_vs_anonymous_bare_ratio"] = results["page_rps"] / results["bare_anonymous_rps"]
    results["errors"] = (bare.errors + anonymous.errors + mixed.errors
                         + sum(p.errors for p in alone.values()))
    print_figures(results)
    print(f"page_vs_bare_ratio_goal_met {int(results['page_vs_bare_ratio'] >= 0.35)}")
    print(f"page_p95_goal_met {int(results['page_p95_ms'] <= 150)}")
    if results["errors"]:
        sys.exit(f"{results['errors']} requests did not answer 200")


if __name__ == "__main__":
    main()
