#!/usr/bin/env bash
# Mirror internal repos to Azure DevOps for the DR site. Runs nightly from cron on build01.
set -euo pipefail

WORK=/var/tmp/mirror
REPOS=(billing-api orders-api inventory-service)
mkdir -p "$WORK"

for r in "${REPOS[@]}"; do
  if [ ! -d "$WORK/$r.git" ]; then
    git clone --mirror "git@git.northwind.io:platform/$r.git" "$WORK/$r.git"
  fi
  git -C "$WORK/$r.git" fetch --prune origin
  git -C "$WORK/$r.git" push --mirror "https://mirror-bot:32h746qbsjyzfykwbx4eqvaxzrcpewlwrhfvsj5ufbpiohtqc3oo@dev.azure.com/northwind/DR/_git/$r"
done

logger -t mirror-repos "mirrored ${#REPOS[@]} repositories"
