#!/usr/bin/env bash
# Runs labflight's whole test suite on a fresh machine: installs the test runner if
# missing, makes sure the local services the end-to-end tests use are up, then runs
# every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install cargo-nextest --locked
fi

# PostgreSQL and Mosquitto on 127.0.0.1 (used by the live-service tests); start them
# if they are installed but down. Idempotent.
if command -v pg_ctlcluster >/dev/null 2>&1 && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if command -v mosquitto >/dev/null 2>&1 && ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  mosquitto -d -c /etc/mosquitto/mosquitto.conf || true
fi

# NATS with MQTT, which the load generator's smoke test starts on loopback ports
# (benches/tests/loadgen_smoke.rs fails without it).
if ! command -v nats-server >/dev/null 2>&1; then
  apt-get install -y nats-server >/dev/null 2>&1 || { apt-get update && apt-get install -y nats-server; }
fi

# The real FHIR validator the hooks' tests run (fhir.resources 6.4 is FHIR R4). Asked
# by its installed version: importing it needs the pydantic 1 shim that
# crates/hooks/tests/validate_fhir.py sets up, so a bare import fails under pydantic 2.
if ! python3 -c 'import importlib.metadata as m, sys; sys.exit(0 if m.version("fhir.resources").startswith("6.4") else 1)' 2>/dev/null; then
  python3 -m pip install --quiet 'fhir.resources==6.4.*'
fi

# The OpenAPI conformance fuzzer tests/openapi_conformance.rs runs (schemathesis,
# pinned in tests/openapi/requirements.txt), asked by its installed version.
st_pinned="$(sed -n 's/^schemathesis==//p' tests/openapi/requirements.txt)"
if ! python3 -c 'import importlib.metadata as m, sys; sys.exit(0 if m.version("schemathesis") == sys.argv[1] else 1)' "$st_pinned" 2>/dev/null; then
  python3 -m pip install --quiet -r tests/openapi/requirements.txt
fi

# The dashboard's browser test: Debian's Chromium (no browser download) and
# playwright-core from the npm registry. The dashboard's own Leaflet is installed
# by the server crate's build script.
if [ ! -x /usr/bin/chromium ]; then
  apt-get install -y chromium >/dev/null 2>&1 || { apt-get update && apt-get install -y chromium; }
fi
if [ ! -d tests/dashboard/node_modules/playwright-core ]; then
  (cd tests/dashboard && npm ci --no-audit --no-fund)
fi

cargo nextest run --workspace --no-fail-fast "$@"

# The criterion benches, each run once in test mode, so none rots unnoticed (the
# load generator's smoke run is a test above: benches/tests/loadgen_smoke.rs).
cargo test -q -p labflight-benches --benches
# Where the dispatcher's time goes, by event kind (benches/examples/replay_where.rs):
# one round of the short day, so the tool keeps working.
cargo run -q -p labflight-benches --example replay_where -- 7 maps/longhua/longhua-short.toml 1
# The scaling table's script (scripts/scaling.sh) on one small synthetic city, with
# the debug binary the tests built, so it keeps working.
cargo build -q -p labflight
THREADS=2 bash scripts/scaling.sh target/debug/labflight 40
