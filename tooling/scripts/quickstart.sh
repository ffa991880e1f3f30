#!/usr/bin/env bash
# Quick start, step 1 of 2: installs everything (.ci/setup: pnpm, redis-server,
# etcd, workspace dependencies), builds every package, and runs the example,
# which composes several packages against a real Redis it starts on loopback.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash .ci/setup
printf '\n==> pnpm build\n'
pnpm build
printf '\n==> pnpm example\n'
pnpm example
