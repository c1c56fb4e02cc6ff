#!/usr/bin/env bash
# Run the suite again on PostgreSQL when TEST_DATABASE_URL is set or a server answers on
# 127.0.0.1:5432. tests/conftest.py makes a fresh database on that server and drops it after.
set -euo pipefail
PY=${PY:-.venv/bin/python}
url=${TEST_DATABASE_URL:-}
if [ -z "$url" ]; then
  if "$PY" - <<'PY'
import sys
import psycopg
try:
    psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3).close()
except Exception:
    sys.exit(1)
PY
  then
    url="postgresql+psycopg://postgres@127.0.0.1:5432/test"
  else
    echo "PostgreSQL 未在 127.0.0.1:5432 响应且未设置 TEST_DATABASE_URL：只在 SQLite 上运行了测试。"
    exit 0
  fi
fi
echo "在 PostgreSQL 上再运行一遍测试（${url%%@*}@…）"
TEST_DATABASE_URL="$url" "$PY" -m pytest "$@"
