# Helpers for the eth source tests: a cached anvil from npm, free ports, eth metrics.
# Source after lib.bash.

ANVIL_VERSION=${ANVIL_VERSION:-1.7.1}
# Cached per version under tests/out (gitignored); a clean clone installs it once.
ANVIL_CACHE=${ANVIL_CACHE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tests/out/npm/anvil-$ANVIL_VERSION}

# anvil_bin: prints the path of the anvil binary, installing @foundry-rs/anvil from the
# npm registry when missing. The package's postinstall is skipped: the binary comes in
# the platform package (@foundry-rs/anvil-linux-amd64 ...), an optional dependency.
anvil_bin() {
    local arch
    case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) echo "unsupported architecture $(uname -m)" >&2; return 1 ;;
    esac
    local bin="$ANVIL_CACHE/node_modules/@foundry-rs/anvil-linux-$arch/bin/anvil"
    if [ ! -x "$bin" ]; then
        command -v npm >/dev/null || { echo "npm is not installed" >&2; return 1; }
        mkdir -p "$ANVIL_CACHE"
        (
            flock 9
            [ -x "$bin" ] || timeout 120 npm install --prefix "$ANVIL_CACHE" --no-audit --no-fund \
                --ignore-scripts --loglevel=error "@foundry-rs/anvil@$ANVIL_VERSION" >&2
        ) 9>"$ANVIL_CACHE/.lock" || return 1
    fi
    [ -x "$bin" ] || { echo "no anvil binary at $bin after npm install" >&2; return 1; }
    echo "$bin"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# metric NAME: an events-region metric, 0 when absent or unreadable.
metric() { info_field "events.metrics.$1" 2>/dev/null || echo 0; }
metric_ge() { [ "$(metric "$1")" -ge "$2" ]; }
metric_eq() { [ "$(metric "$1")" = "$2" ]; }

# start_fake_node ARGS...: starts eth_fake_node.py (loopback, the port it chose in
# $FAKE_NODE_PORT) with ARGS (--script ..., TLS files), logging to $WORK/node.log.
start_fake_node() {
    python3 "$(dirname "${BASH_SOURCE[0]}")/eth_fake_node.py" --port-file "$WORK/port" \
        --log "$WORK/node.log" "$@" 2>"$WORK/node.err" &
    track $!
    wait_until 10 test -s "$WORK/port" || fail "fake node did not start: $(cat "$WORK/node.err")"
    FAKE_NODE_PORT=$(cat "$WORK/port")
}
