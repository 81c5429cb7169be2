#!/usr/bin/env bash
# eth_fake_node.sh on the poll(2) socket path (MEMPULSE_NO_URING=1), which ingest takes
# where io_uring is refused.
export MEMPULSE_NO_URING=1
. "$(dirname "$0")/eth_fake_node.sh"
