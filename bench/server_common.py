"""What the server benchmarks share: a throw-away database (a fresh PostgreSQL database,
dropped afterwards, or a temporary SQLite file), the environment a production process gets,
`flask db upgrade` and the scale seed (`flask bench-seed`, or the Lingyuan demo when that
command is missing), and gunicorn started on a free local port and stopped cleanly."""
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
DEMO_PASSWORD = "Lingyuan@2016"  # procurement.demo.DEMO_PASSWORD; also bench-seed's users'


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def fresh_postgres(server: str = POSTGRES_SERVER, keep: bool = False):
    """A new, uniquely named database on the server; yields its SQLAlchemy URL and drops
    it afterwards (unless `keep`)."""
    import psycopg

    server = server.rstrip("/")
    name = f"procurement_bench_{secrets.token_hex(4)}"
    admin = f"{_psycopg_url(server)}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        if keep:
            print(f"# kept database {server}/{name}", file=sys.stderr)
        else:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(url_or_server: str | None = None, keep: bool = False):
    """`None`/"sqlite": a temporary SQLite file; a postgresql URL: a fresh database on that
    server (any database name in the URL is ignored)."""
    if not url_or_server or url_or_server == "sqlite":
        with tempfile.TemporaryDirectory(prefix="procurement-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        return
    server = url_or_server
    if server.startswith(("postgresql://", "postgres://")):
        server = "postgresql+psycopg://" + server.split("://", 1)[1]
    scheme, rest = server.split("://", 1)
    host = rest.split("/", 1)[0]
    with fresh_postgres(f"{scheme}://{host}", keep=keep) as url:
        yield url


def production_env(database_url: str, instance: Path, **extra: str) -> dict:
    """The environment of a production process on this database (config.ProductionConfig:
    a random SECRET_KEY, Secure cookies, HSTS), with its instance directory in `instance`.
    Rate limits: memory storage (one counter per worker, as without Redis); the login limit
    is raised so the benchmark's own sign-ins never meet a 429. The pages measured carry no
    limit, so the limiter's per-request check costs what it costs in production."""
    env = dict(os.environ)
    env.update({
        "PROCUREMENT_CONFIG": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": database_url,
        "PROCUREMENT_INSTANCE": str(instance),
        "UPLOAD_DIR": str(instance / "uploads"),
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def flask(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "procurement", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=check)


def has_bench_seed(env: dict) -> bool:
    return flask(env, "bench-seed", "--help", check=False).returncode == 0


def migrate_and_seed(env: dict, communities: int, seed: int = 1) -> dict:
    """`flask db upgrade`, then `flask bench-seed --communities N`; when this checkout has
    no bench-seed command, the Lingyuan demo instead (two communities), said on stderr.
    Returns what was loaded: {"data": "bench-seed"|"demo", "communities": N, "seed_s": s}."""
    result = flask(env, "db", "upgrade", check=False)
    if result.returncode:
        sys.exit(f"flask db upgrade failed:\n{result.stderr}")
    start = time.perf_counter()
    if has_bench_seed(env):
        result = flask(env, "bench-seed", "--communities", str(communities), "--seed", str(seed),
                       check=False)
        data = "bench-seed"
    else:
        print("# flask bench-seed is missing: falling back to the Lingyuan demo "
              "(2 communities); figures are not the 2,000-community ones", file=sys.stderr)
        result = flask(env, "demo", check=False)
        data, communities = "demo", 2
    if result.returncode:
        sys.exit(f"seeding ({data}) failed:\n{result.stdout}\n{result.stderr}")
    seed_s = time.perf_counter() - start
    analyze(env["DATABASE_URL"])
    return {"data": data, "communities": communities, "seed_s": seed_s}


def analyze(database_url: str) -> None:
    """ANALYZE a freshly bulk-loaded PostgreSQL database. A live server's autovacuum does it
    within a minute or so of a large load; without statistics the planner guesses (31
    accounts per agreement instead of 10) and scans whole tables: the ledger page's count
    of requested instalments took 23 ms by a sequential scan of 24,000 instalments
    instead of 0.1 ms through the indexes."""
    if not database_url.startswith("postgresql"):
        return
    import psycopg

    with psycopg.connect(_psycopg_url(database_url), autocommit=True) as conn:
        conn.execute("ANALYZE")


def bench_user(data: str, role: str) -> str:
    """The login of a street-office user with `role` in the seeded data: bench-seed's
    `bench-<role>`, or the demo's user for that role."""
    if data == "bench-seed":
        return f"bench-{role}"
    return {"contract_manager": "hetong", "finance_officer": "caiwu", "leader": "lingdao",
            "auditor": "shenji", "committee_staff": "linkou", "agency_staff": "cishan"}[role]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(env: dict, workers: int = 4, worker_class: str = "sync", threads: int = 1,
             log: Path | None = None, timeout: float = 60):
    """gunicorn serving wsgi:app as README's deployment does, bound to a free local port;
    yields the base URL once /healthz answers, and stops it with SIGTERM (a graceful
    shutdown: workers finish their request) when done."""
    port = free_port()
    log_file = open(log, "w") if log else subprocess.DEVNULL
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers),
               "--worker-class", worker_class, "--threads", str(threads),
               "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "10", "--log-level",
               "warning", "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=log_file)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                detail = Path(log).read_text() if log else ""
                sys.exit(f"gunicorn exited with {process.returncode}\n{detail}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit("gunicorn did not answer /healthz in time")
            time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if log:
            log_file.close()
