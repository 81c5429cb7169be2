/* mempulse-ingest: parses options and signals, then hands over to the ingest loop. */
#include "common/log.h"
#include "common/opts.h"
#include "ingest/ingest_loop.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_requested;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mempulse-ingest [--instance NAME]\n"
            "                       [--source synthetic|file:PATH|file:-|eth:ws[s]://HOST:PORT[/path]]\n"
            "                       [--rate N] [--seed S] [--duration SEC] [--ring-mb M]\n"
            "                       [--lag-timeout SEC] [--speed X] [--start-time-ms MS]\n"
            "                       [--chain-id N] [--max-seq N] [--reinit] [--eth-hashes-only]\n"
            "                       [--eth-ca-file PEM]\n"
            "  --instance NAME     stack instance (regions /dev/shm/mempulse.NAME.*), default 'default'\n"
            "  --source SRC        synthetic (default), file:PATH (JSONL of RPC tx objects or\n"
            "                      mempool-dumpster CSV), file:- (stdin), eth:ws://HOST:PORT[/path]\n"
            "                      or eth:wss://HOST[:PORT][/path]\n"
            "                      (an Ethereum node's JSON-RPC WebSocket; reconnects by itself)\n"
            "  --eth-hashes-only   eth: subscribe to pending tx hashes and fetch each body with\n"
            "                      eth_getTransactionByHash (default: full objects, falling back\n"
            "                      to hashes when the node refuses them)\n"
            "  --eth-ca-file PEM   eth wss://: trusted CA certificates (default: the system store)\n"
            "  --rate N            synthetic tx/s, 0 = as fast as possible (default 20)\n"
            "  --seed S            synthetic seed (default 1)\n"
            "  --duration SEC      stop after SEC seconds (default: run until SIGTERM)\n"
            "  --ring-mb M         ring capacity in MiB, power of two (default 64, or the existing size)\n"
            "  --lag-timeout SEC   longest wait for a stalled readmodel before overwriting (default 5)\n"
            "  --speed X           pace: event time runs X times wall time (CSV replay, synthetic);\n"
            "                      1 (default) real time, 0 unpaced\n"
            "  --start-time-ms MS  synthetic clock origin (default: now, at first start)\n"
            "  --chain-id N        chain id for sources that do not carry one (default 1)\n"
            "  --max-seq N         stop (exit 0) once seq N is published, also across restarts\n"
            "  --reinit            recreate the events region if its layout or size differs\n");
}

int main(int argc, char **argv)
{
    mp_log_init("mempulse-ingest");
    mp_ingest_config_t cfg = {
        .instance = "default",
        .source = "synthetic",
        .rate = 20,
        .seed = 1,
        .chain_id = 1,
        .speed = -1,
        .lag_timeout_ns = 5000000000ull,
    };
    static const struct option opts[] = {
        {"instance", required_argument, 0, 'i'},   {"source", required_argument, 0, 's'},
        {"rate", required_argument, 0, 'r'},       {"seed", required_argument, 0, 'S'},
        {"duration", required_argument, 0, 'd'},   {"ring-mb", required_argument, 0, 'm'},
        {"lag-timeout", required_argument, 0, 'l'}, {"speed", required_argument, 0, 'x'},
        {"start-time-ms", required_argument, 0, 't'}, {"chain-id", required_argument, 0, 'c'},
        {"reinit", no_argument, 0, 'R'},           {"help", no_argument, 0, 'h'},
        {"max-seq", required_argument, 0, 'M'},    {"eth-hashes-only", no_argument, 0, 'H'},
        {"eth-ca-file", required_argument, 0, 'C'},
        {0, 0, 0, 0},
    };
    int c;
    double v;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': cfg.instance = optarg; break;
        case 's': cfg.source = optarg; break;
        case 'r':
            if (mp_opts_number("rate", optarg, 0, 100e6, &v)) return 2;
            cfg.rate = (uint32_t)v;
            break;
        case 'S': {
            char *end;
            errno = 0;
            cfg.seed = strtoull(optarg, &end, 0);
            if (errno || end == optarg || *end) {
                mp_log("invalid value '%s' for --seed", optarg);
                return 2;
            }
            break;
        }
        case 'd':
            if (mp_opts_number("duration", optarg, 0, 1e9, &cfg.duration_s)) return 2;
            break;
        case 'm':
            if (mp_opts_number("ring-mb", optarg, 0, 1 << 20, &v)) return 2;
            cfg.ring_bytes = (uint64_t)v << 20;
            if (!cfg.ring_bytes) {
                mp_log("--ring-mb must be at least 1");
                return 2;
            }
            break;
        case 'l':
            if (mp_opts_number("lag-timeout", optarg, 0, 86400, &v)) return 2;
            cfg.lag_timeout_ns = (uint64_t)(v * 1e9);
            break;
        case 'x':
            if (mp_opts_number("speed", optarg, 0, 1e6, &cfg.speed)) return 2;
            break;
        case 't':
            if (mp_opts_number("start-time-ms", optarg, 0, 1e14, &v)) return 2;
            cfg.start_unix_ns = (uint64_t)v * 1000000ull;
            break;
        case 'c':
            if (mp_opts_number("chain-id", optarg, 0, 1e15, &v)) return 2;
            cfg.chain_id = (uint64_t)v;
            break;
        case 'R': cfg.reinit = true; break;
        case 'M':
            if (mp_opts_number("max-seq", optarg, 0, 1e18, &v)) return 2;
            cfg.max_seq = (uint64_t)v;
            break;
        case 'H': cfg.eth_hashes_only = true; break;
        case 'C': cfg.eth_ca_file = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        mp_log("unexpected argument '%s'", argv[optind]);
        usage(stderr);
        return 2;
    }
    mp_opts_stop_on_signals(&stop_requested);
    signal(SIGPIPE, SIG_IGN);
    return mp_ingest_run(&cfg, &stop_requested);
}
