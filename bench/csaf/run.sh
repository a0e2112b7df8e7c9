#!/usr/bin/env bash
# Benchmark `keikai csaf validate --preset basic` against the peer CSAF validators
# (csaf-rs csaf-validator, PyPI csaf, BSI csaf-validator-lib) on the 239 OASIS test files and
# on the 2,383 CISA advisories: whole-process wall time, documents per second, agreement with
# testcases.json, peak memory, and the ratio to keikai.
#
# Run from anywhere in a clone that has ../shared beside it (the corpus and the peer kit):
#   bash bench/csaf/run.sh [--runs N] [--slow-runs N] [--json FILE]
# Environment: PEERS_DIR (default $HOME/.cache/keikai-peers), CARGO_TARGET_DIR (as cargo).
# Needs cargo, node/npm, python3; hyperfine is used when installed (apt-get install hyperfine).
# The first run builds the Rust peer (cargo install, about 6 minutes on 2 cores).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
KIT="$ROOT/../shared/bench/peers/csaf"
CORPUS="$ROOT/../shared/corpus/csaf"
for need in "$KIT/install.sh" "$CORPUS/tests/testcases.json" "$CORPUS/cisa-csaf.jsonl.gz"; do
  [ -e "$need" ] || { echo "run.sh: $need is missing (clone with ../shared beside the repo)" >&2; exit 1; }
done
export PEERS_DIR="${PEERS_DIR:-$HOME/.cache/keikai-peers}"

echo "== building keikai (release)"
cargo build --release --locked -p keikai --bin keikai
KEIKAI="${CARGO_TARGET_DIR:-$ROOT/target}/release/keikai"

echo "== installing the peers into $PEERS_DIR (idempotent)"
bash "$KIT/install.sh" --with-rust

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
echo "== writing the CISA documents to $WORK/cisa"
python3 "$KIT/jsonl_to_folder.py" "$CORPUS/cisa-csaf.jsonl.gz" "$WORK/cisa"

command -v hyperfine >/dev/null || echo "note: hyperfine not found, timing with repeated runs"
echo "== measuring"
python3 "$ROOT/bench/csaf/bench.py" --keikai "$KEIKAI" --kit "$KIT" --tests "$CORPUS/tests" \
  --cisa "$WORK/cisa" --peers-dir "$PEERS_DIR" "$@"
