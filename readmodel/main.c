/* mempulse-readmodel: parses options and signals, then runs the apply loop. */
#include "common/log.h"
#include "common/opts.h"
#include "readmodel/rm_loop.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static volatile sig_atomic_t stop_requested;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mempulse-readmodel [--instance NAME] [--reinit] [--duration SEC] [capacities]\n"
            "  --instance NAME        stack instance (default 'default')\n"
            "  --reinit               recreate the read-model region if its layout differs\n"
            "  --duration SEC         stop after SEC seconds (default: until SIGTERM)\n"
            "  --wait-events SEC      wait this long for the events region (default 30)\n"
            "capacities (fixed when the region is created; defaults from SPEC 2.3):\n"
            "  --tx-ring N            latest transactions on tx.main (4096)\n"
            "  --details N            tx_detail_index entries (65536)\n"
            "  --detail-ttl SEC       detail TTL in event time (600)\n"
            "  --input-mb M           calldata arena (32)\n"
            "  --feature-recent N     (2048)\n"
            "  --opportunities N      (1024)\n"
            "  --journal N            deltas kept, power of two (262144)\n"
            "  --journal-mb M         entity bytes kept, power of two (64)\n");
}

int main(int argc, char **argv)
{
    mp_log_init("mempulse-readmodel");
    mp_rm_config_t cfg = {.instance = "default", .wait_events_s = 30};
    mp_rm_caps_default(&cfg.caps);
    static const struct option opts[] = {
        {"instance", required_argument, 0, 'i'},   {"reinit", no_argument, 0, 'R'},
        {"duration", required_argument, 0, 'd'},   {"wait-events", required_argument, 0, 'w'},
        {"tx-ring", required_argument, 0, 't'},    {"details", required_argument, 0, 'D'},
        {"detail-ttl", required_argument, 0, 'T'}, {"input-mb", required_argument, 0, 'I'},
        {"feature-recent", required_argument, 0, 'f'}, {"opportunities", required_argument, 0, 'o'},
        {"journal", required_argument, 0, 'j'},    {"journal-mb", required_argument, 0, 'J'},
        {"help", no_argument, 0, 'h'},             {0, 0, 0, 0},
    };
    int c;
    double v;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': cfg.instance = optarg; break;
        case 'R': cfg.reinit = true; break;
        case 'd': if (mp_opts_number("duration", optarg, 0, 1e9, &cfg.duration_s)) return 2; break;
        case 'w': if (mp_opts_number("wait-events", optarg, 0, 86400, &cfg.wait_events_s)) return 2; break;
        case 't': if (mp_opts_number("tx-ring", optarg, 16, 1 << 20, &v)) return 2; cfg.caps.tx_ring = (uint32_t)v; break;
        case 'D': if (mp_opts_number("details", optarg, 16, 1 << 24, &v)) return 2; cfg.caps.detail = (uint32_t)v; break;
        case 'T': if (mp_opts_number("detail-ttl", optarg, 1, 86400 * 7, &v)) return 2;
            cfg.caps.detail_ttl_ns = (uint64_t)(v * 1e9);
            break;
        case 'I': if (mp_opts_number("input-mb", optarg, 1, 4096, &v)) return 2; cfg.caps.input_bytes = (uint64_t)v << 20; break;
        case 'f': if (mp_opts_number("feature-recent", optarg, 16, 1 << 20, &v)) return 2; cfg.caps.feature_recent = (uint32_t)v; break;
        case 'o': if (mp_opts_number("opportunities", optarg, 16, 1 << 20, &v)) return 2; cfg.caps.opportunity = (uint32_t)v; break;
        case 'j': if (mp_opts_number("journal", optarg, 1024, 1 << 26, &v)) return 2; cfg.caps.journal = (uint32_t)v; break;
        case 'J': if (mp_opts_number("journal-mb", optarg, 1, 4096, &v)) return 2; cfg.caps.journal_bytes = (uint64_t)v << 20; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        mp_log("unexpected argument '%s'", argv[optind]);
        return 2;
    }
    char err[256];
    if (mp_rm_caps_check(&cfg.caps, err, sizeof err)) {
        mp_log("%s", err);
        return 2;
    }
    mp_opts_stop_on_signals(&stop_requested);
    return mp_rm_run(&cfg, &stop_requested);
}
