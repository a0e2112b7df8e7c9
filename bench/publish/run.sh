#!/usr/bin/env bash
# Publishing benchmark and the public site under load, beside nginx serving the same export.
#
#   bash bench/publish/run.sh            # from the repository root
#
# 1. `cargo bench --bench publish`: 150 realistic advisories (ja/en) published in one release,
#    three runs on fresh SQLite files (figures printed by the bench).
# 2. The same data seeded into one SQLite file, served by `keikai serve` (release build) and
#    exported with `keikai export` into a folder that nginx serves.
# 3. `wrk` on loopback against both, for one advisory page and one CSAF document: requests/s,
#    p99 latency, and Keikai's figures as a fraction of nginx's.
# Installs wrk and nginx from Debian when missing. Uses ports 18080 (Keikai) and 18081 (nginx).
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "==> publishing 150 advisories (3 runs)"
cargo bench -p keikai --bench publish 2>/dev/null | grep -E '^publish'

work=$(mktemp -d)
# nginx's workers run as an unprivileged user: they must be able to read the export.
chmod 755 "$work"
cleanup() {
  [ -n "${keikai_pid:-}" ] && kill "$keikai_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> seeding one database and serving it"
cargo build --release -q
bin="${CARGO_TARGET_DIR:-target}/release/keikai"
KEIKAI_BENCH_DATABASE_URL="sqlite://$work/keikai.db" cargo bench -p keikai --bench publish 2>/dev/null | grep -E '^published'
cat > "$work/keikai.toml" <<TOML
public_url = "http://127.0.0.1:8080"
[publishing]
tracking_prefix = "BENCH"
cve_org_id = "11111111-2222-4333-8444-555555555555"
cve_short_name = "EXAMPLE"
TOML
export KEIKAI_DATABASE_URL="sqlite://$work/keikai.db" KEIKAI_ADMIN_PASSWORD="bench password 1234" KEIKAI_LOG=warn
"$bin" --config "$work/keikai.toml" export "$work/site"
"$bin" --config "$work/keikai.toml" serve --listen 127.0.0.1:18080 >/dev/null &
keikai_pid=$!

cat > "$work/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  types { text/html html; application/json json; text/plain txt asc sha256 sha512; application/atom+xml atom; }
  access_log off;
  sendfile on;
  etag on;
  server {
    listen 127.0.0.1:18081;
    root $work/site;
    location / { try_files \$uri \$uri.html =404; }
  }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work"

up=0
for _ in $(seq 1 150); do curl -fs -o /dev/null http://127.0.0.1:18080/healthz && { up=1; break; }; sleep 0.2; done
[ "$up" = 1 ] || { echo "keikai serve did not come up on 127.0.0.1:18080" >&2; exit 1; }
doc=$(head -1 "$work/site/.well-known/csaf/white/index.txt")
id=$(grep -o 'BENCH-[0-9]*-[0-9]*' "$work/site/advisories/index.html" | sed -n 75p)
page="/advisories/$id/en.html"
csaf="/.well-known/csaf/white/$doc"
for p in "$page" "$csaf"; do
  curl -fsS -o "$work/k.out" "http://127.0.0.1:18080$p"
  curl -fsS -o "$work/n.out" "http://127.0.0.1:18081$p"
  cmp -s "$work/k.out" "$work/n.out" \
    || { echo "Keikai and nginx serve different bytes for $p" >&2; exit 1; }
done

measure() { # url -> "rps p99"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$1" \
    | awk '/Requests\/sec/ {r=$2} / 99%/ {p=$2} END {print r, p}'
}
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us/,"",v); print v/1000 } else if (v ~ /ms$/) { sub(/ms/,"",v); print v+0 } else { sub(/s/,"",v); print v*1000 } }'; }

printf '\n%-34s %12s %10s %12s %10s %9s\n' "wrk -t$THREADS -c$CONNECTIONS -d$DURATION" "keikai r/s" "p99 ms" "nginx r/s" "p99 ms" "ratio"
for p in "$page" "$csaf"; do
  read -r kr kp < <(measure "http://127.0.0.1:18080$p")
  read -r nr np < <(measure "http://127.0.0.1:18081$p")
  kp=$(to_ms "$kp"); np=$(to_ms "$np")
  ratio=$(awk -v a="$kr" -v b="$nr" 'BEGIN { printf "%.2f", a/b }')
  label=$([ "$p" = "$page" ] && echo "advisory page (en.html)" || echo "CSAF document (.json)")
  printf '%-34s %12s %10s %12s %10s %9s\n' "$label" "$kr" "$kp" "$nr" "$np" "$ratio"
done
echo "(ratio: Keikai's requests/s as a fraction of nginx's; both on loopback, 2 cores shared with wrk)"
