/* mempulse-gateway: parses options and signals, then runs the HTTP server. */
#include "common/log.h"
#include "common/opts.h"
#include "gateway/config.h"
#include "gateway/server.h"

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
            "usage: mempulse-gateway [--instance NAME] [--listen HOST:PORT] [--static DIR]\n"
            "                        [--token-file F] [--origin O]... [limits]\n"
            "  --instance NAME        stack instance (default 'default')\n"
            "  --listen HOST:PORT     address, shared with the other gateway processes through\n"
            "                         SO_REUSEPORT (default 127.0.0.1:8080; [::1]:PORT for IPv6)\n"
            "  --static DIR           built web UI served at / (default web-ui/dist)\n"
            "  --token-file F         require 'Authorization: Bearer <token>' on data routes\n"
            "  --origin O             allowed browser Origin (repeatable; '*' allows any)\n"
            "limits:\n"
            "  --header-timeout-ms N  request head and keep-alive idle deadline (5000)\n"
            "  --write-timeout-ms N   a response must be written within N ms (30000)\n"
            "  --drain-timeout-ms N   SIGTERM: longest wait for in-flight requests (10000)\n"
            "  --ready-heartbeat-ms N readyz: readmodel heartbeat older than N is stale (2000)\n"
            "  --max-conns N          open connections per process (4096)\n"
            "  --coalesce-ms N        reuse a snapshot section this young even if its channel\n"
            "                         moved (25; 0 reuses unchanged sections only)\n"
            "  --max-body-mb N        largest response body (64)\n"
            "  --body-budget-mb N     response bodies held at once, cache included (512)\n");
}

int main(int argc, char **argv)
{
    mp_log_init("mempulse-gateway");
    static mp_gw_config_t cfg;
    mp_gw_config_default(&cfg);
    static const struct option opts[] = {
        {"instance", required_argument, 0, 'i'},
        {"listen", required_argument, 0, 'l'},
        {"static", required_argument, 0, 's'},
        {"token-file", required_argument, 0, 't'},
        {"origin", required_argument, 0, 'o'},
        {"header-timeout-ms", required_argument, 0, 'H'},
        {"write-timeout-ms", required_argument, 0, 'W'},
        {"drain-timeout-ms", required_argument, 0, 'D'},
        {"ready-heartbeat-ms", required_argument, 0, 'R'},
        {"max-conns", required_argument, 0, 'c'},
        {"coalesce-ms", required_argument, 0, 'C'},
        {"max-body-mb", required_argument, 0, 'B'},
        {"body-budget-mb", required_argument, 0, 'G'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *token_file = NULL;
    uint64_t v;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': cfg.instance = optarg; break;
        case 'l': cfg.listen = optarg; break;
        case 's': cfg.static_dir = *optarg ? optarg : NULL; break;
        case 't': token_file = optarg; break;
        case 'o':
            if (cfg.origin_count == MP_GW_MAX_ORIGINS) {
                mp_log("at most %d --origin values", MP_GW_MAX_ORIGINS);
                return 2;
            }
            cfg.origins[cfg.origin_count++] = optarg;
            break;
        case 'H':
            if (mp_opts_uint("header-timeout-ms", optarg, 100, 600000, &v)) return 2;
            cfg.header_timeout_ms = (uint32_t)v;
            break;
        case 'W':
            if (mp_opts_uint("write-timeout-ms", optarg, 100, 3600000, &v)) return 2;
            cfg.write_timeout_ms = (uint32_t)v;
            break;
        case 'D':
            if (mp_opts_uint("drain-timeout-ms", optarg, 0, 600000, &v)) return 2;
            cfg.drain_timeout_ms = (uint32_t)v;
            break;
        case 'R':
            if (mp_opts_uint("ready-heartbeat-ms", optarg, 100, 600000, &v)) return 2;
            cfg.ready_heartbeat_ms = (uint32_t)v;
            break;
        case 'c':
            if (mp_opts_uint("max-conns", optarg, 1, 1000000, &v)) return 2;
            cfg.max_conns = (uint32_t)v;
            break;
        case 'C':
            if (mp_opts_uint("coalesce-ms", optarg, 0, 60000, &v)) return 2;
            cfg.coalesce_ms = (uint32_t)v;
            break;
        case 'B':
            if (mp_opts_uint("max-body-mb", optarg, 1, 2048, &v)) return 2;
            cfg.max_body_bytes = v << 20;
            break;
        case 'G':
            if (mp_opts_uint("body-budget-mb", optarg, 1, 65536, &v)) return 2;
            cfg.body_budget_bytes = v << 20;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        mp_log("unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (cfg.body_budget_bytes < cfg.max_body_bytes) {
        mp_log("--body-budget-mb must be at least --max-body-mb");
        return 2;
    }
    if (token_file) {
        char err[512];
        if (mp_gw_config_load_token(&cfg, token_file, err, sizeof err)) {
            mp_log("%s", err);
            return 2;
        }
    }
    mp_opts_stop_on_signals(&stop_requested);
    signal(SIGPIPE, SIG_IGN); /* a client gone mid-write is an EPIPE, not a death */
    return mp_gw_server_run(&cfg, &stop_requested);
}
