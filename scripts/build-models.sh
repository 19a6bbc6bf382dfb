#!/usr/bin/env bash
# Rebuilds the shipped models (models/<robot>/) from seeded data: `scripts/build-models.sh [robot...]`.
# Each robot: collect D_offline with seed 1, then train with seed 1 and the robot's defaults.
# The same code and seeds give the same ONNX files (model.json's createdAt and timing differ).
set -euo pipefail
cd "$(dirname "$0")/.."
robots=("$@")
[ ${#robots[@]} -gt 0 ] || robots=(dvrk-reacher nav1 nav2 maze dvrk-reacher-image image-maze)
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
for r in "${robots[@]}"; do
  case "$r" in
    nav1) n=20000 ;;   # the reference script's --num_unsafe_transitions (≈14.5k transitions)
    dvrk-reacher | dvrk-reacher-image) n=20000 ;;
    *) n=10000 ;;
  esac
  node bin/rshield.js collect --robot "$r" --transitions "$n" --seed 1 --out "$data/$r.mcap"
  node bin/rshield.js train --robot "$r" --data "$data/$r.mcap" --out "models/$r" --seed 1
done
