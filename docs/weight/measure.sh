#!/usr/bin/env bash
# Weighs the smallest service on prodlog (default features) against the same service on
# tracing-subscriber + tracing-appender: crates in the build, cold release build time (a
# fresh target directory each, one after the other) and binary size. The machine is
# shared: compare the ratios of one run.
#
#   docs/weight/measure.sh            # the table
#   docs/weight/measure.sh --check    # also: variables of features left out are reported
set -euo pipefail
cd "$(dirname "$0")"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
declare -A crates secs bytes
for p in peer prodlog; do
  crates[$p]=$(cargo tree --manifest-path $p/Cargo.toml -e normal --prefix none 2>/dev/null \
    | sed 's/ (.*//' | sort -u | wc -l)
  start=$(date +%s.%N)
  CARGO_TARGET_DIR="$out/$p" cargo build --release --quiet --manifest-path $p/Cargo.toml
  end=$(date +%s.%N)
  secs[$p]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  bytes[$p]=$(stat -c %s "$out/$p/release/weight-$p")
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "| | crates | cold release build (s) | binary (bytes) |"
echo "|---|---|---|---|"
echo "| tracing-subscriber + tracing-appender | ${crates[peer]} | ${secs[peer]} | ${bytes[peer]} |"
echo "| prodlog (default features) | ${crates[prodlog]} | ${secs[prodlog]} | ${bytes[prodlog]} |"
echo "| ratio | $(ratio ${crates[prodlog]} ${crates[peer]}) | $(ratio ${secs[prodlog]} ${secs[peer]}) | $(ratio ${bytes[prodlog]} ${bytes[peer]}) |"

if [ "${1:-}" = "--check" ]; then
  # A variable whose feature this build lacks is an init problem naming the feature.
  dir=$(mktemp -d)
  err=$(cd "$dir" && PRODLOG_DIR="$dir" PRODLOG_OTLP=on PRODLOG_COMPRESS=on \
    PRODLOG_REDACT_RULES=/dev/null PRODLOG_ROTATE=daily PRODLOG_ROTATE_TZ=local \
    "$out/prodlog/release/weight-prodlog" 2>&1 >/dev/null || true)
  rm -rf "$dir"
  for feature in network compression rules-file local-time; do
    if ! grep -q "\`$feature\` cargo feature" <<<"$err"; then
      echo "FAIL: no init problem names the missing \`$feature\` feature; stderr was:" >&2
      echo "$err" >&2
      exit 1
    fi
  done
  echo "ok: PRODLOG_OTLP, PRODLOG_COMPRESS, PRODLOG_REDACT_RULES and PRODLOG_ROTATE_TZ name their missing features"
fi
