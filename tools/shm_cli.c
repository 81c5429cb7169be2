/* mempulse-shm: inspects an instance's shared-memory regions (read-only). Parses the
 * command line, dispatches to one command, and holds the helpers commands share. */
#include "tools/shm_cli.h"

#include "common/clock.h"
#include "common/log.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mempulse-shm COMMAND [--instance NAME] [--json] [options]\n"
            "commands:\n"
            "  info                 regions, writers, seqs, sizes and metrics\n"
            "  tail [-f] [-n N] [--from SEQ]\n"
            "                       decoded events as JSON lines, each with its seq\n"
            "                       (default: the last 10; -f follows; --from starts at SEQ,\n"
            "                       with -n N it prints at most N); a lap prints a gap line\n"
            "  stats [--interval SEC] [--count N]\n"
            "                       event rates and ring usage per interval\n"
            "  dump CHANNEL         the entities of a read-model channel (tx.main, feature.main,\n"
            "                       opportunity.main, chain.main, market.main), sorted by id\n"
            "  tx HASH              one transaction's detail (0x + 64 hex digits)\n"
            "  verify               checks the read-model region's invariants; exit 1 on a\n"
            "                       violation (safe against a running readmodel)\n"
            "  reset [--force]      removes the instance's regions (refused while a writer\n"
            "                       runs, unless --force); the next start recreates them\n"
            "every command takes --json (tail prints JSON lines either way)\n"
            "options:\n"
            "  --instance NAME      stack instance, default 'default' (or $MEMPULSE_INSTANCE)\n"
            "  --json               machine-readable output\n"
            "exit codes: 0 ok, 1 runtime failure, 2 usage error or missing / incompatible region\n");
}

int mp_cli_open_events(const mp_cli_t *cli, mp_events_region_t *ev)
{
    char err[MP_REGION_ERR_MAX];
    int ret = mp_events_open_reader(ev, cli->instance, err);
    if (ret == 0) return 0;
    mp_log("%s", err);
    if (ret == -EPROTO)
        mp_log("the region was made by another mempulse build; run 'mempulse-shm reset --instance %s' "
               "(or start ingest with --reinit) to recreate it",
               cli->instance);
    return ret == -ENOENT || ret == -EPROTO || ret == -EINVAL ? MP_EXIT_USAGE : MP_EXIT_RUNTIME;
}

int mp_cli_readmodel_error(const mp_cli_t *cli, int ret, const char *err)
{
    mp_log("%s", err);
    if (ret == -EPROTO)
        mp_log("the region was made by another mempulse build; run 'mempulse-shm reset "
               "--instance %s' (or start the readmodel with --reinit) to recreate it",
               cli->instance);
    else if (ret == -EAGAIN)
        mp_log("the readmodel is starting; retry in a moment");
    return ret == -ENOENT || ret == -EPROTO || ret == -EINVAL ? MP_EXIT_USAGE : MP_EXIT_RUNTIME;
}

int mp_cli_open_readmodel(const mp_cli_t *cli, mp_rm_region_t *rm)
{
    char err[MP_REGION_ERR_MAX];
    int ret = mp_rm_open_reader(rm, cli->instance, err);
    return ret ? mp_cli_readmodel_error(cli, ret, err) : 0;
}

json_t *mp_cli_header_json(const mp_region_t *r)
{
    const mp_region_header_t *h = mp_region_header(r);
    uint64_t hb = atomic_load_explicit(&h->writer_heartbeat_mono_ns, memory_order_relaxed);
    uint64_t now = mp_mono_ns();
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(r->path));
    json_object_set_new(o, "layout_version", json_integer(h->layout_version));
    json_object_set_new(o, "region_bytes", json_integer((json_int_t)h->region_size));
    json_object_set_new(o, "created_unix_ns", json_integer((json_int_t)h->created_unix_ns));
    json_object_set_new(o, "writer_pid",
                        json_integer(atomic_load_explicit(&h->writer_pid, memory_order_relaxed)));
    json_object_set_new(o, "writer_alive", json_boolean(mp_region_writer_alive(r)));
    json_object_set_new(o, "writer_starts",
                        json_integer((json_int_t)atomic_load_explicit(&h->writer_starts,
                                                                      memory_order_relaxed)));
    json_object_set_new(o, "writer_start_unix_ns",
                        json_integer((json_int_t)atomic_load_explicit(&h->writer_start_unix_ns,
                                                                      memory_order_relaxed)));
    json_object_set_new(o, "heartbeat_age_ms",
                        hb && now >= hb ? json_integer((json_int_t)((now - hb) / 1000000)) : json_null());
    return o;
}

json_t *mp_cli_metrics_json(const mp_metrics_t *m)
{
    json_t *o = json_object();
    uint32_t n = mp_metrics_count(m);
    for (uint32_t i = 0; i < n; i++) {
        char name[MP_METRIC_NAME_MAX + 1];
        memcpy(name, m->slots[i].name, MP_METRIC_NAME_MAX);
        name[MP_METRIC_NAME_MAX] = '\0';
        json_object_set_new(o, name, json_integer((json_int_t)atomic_load_explicit(
                                         &m->slots[i].value, memory_order_relaxed)));
    }
    return o;
}

void mp_cli_print_json(json_t *v, bool compact)
{
    char *s = json_dumps(v, compact ? JSON_COMPACT : JSON_INDENT(2));
    if (s) {
        puts(s);
        free(s);
    }
    fflush(stdout);
}

static int parse_u64(const char *opt, const char *arg, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno || end == arg || *end || arg[0] == '-') {
        mp_log("invalid value '%s' for %s", arg, opt);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    mp_log_init("mempulse-shm");
    signal(SIGPIPE, SIG_DFL); /* `mempulse-shm tail -f | head` ends quietly */
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? MP_EXIT_USAGE : MP_EXIT_OK;
    }
    const char *cmd = argv[1];
    const char *env_instance = getenv("MEMPULSE_INSTANCE");
    mp_cli_t cli = {
        .instance = env_instance && *env_instance ? env_instance : "default",
        .lines = 10,
        .interval_s = 1.0,
    };
    static const struct option opts[] = {
        {"instance", required_argument, 0, 'i'}, {"json", no_argument, 0, 'j'},
        {"follow", no_argument, 0, 'f'},         {"from", required_argument, 0, 'F'},
        {"lines", required_argument, 0, 'n'},    {"interval", required_argument, 0, 'I'},
        {"count", required_argument, 0, 'c'},    {"help", no_argument, 0, 'h'},
        {"force", no_argument, 0, 'X'},
        {0, 0, 0, 0},
    };
    optind = 2;
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, "fn:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': cli.instance = optarg; break;
        case 'j': cli.json = true; break;
        case 'X': cli.force = true; break;
        case 'f': cli.follow = true; break;
        case 'F':
            if (parse_u64("--from", optarg, &cli.from_seq)) return MP_EXIT_USAGE;
            cli.has_from = true;
            break;
        case 'n':
            if (parse_u64("-n", optarg, &cli.lines)) return MP_EXIT_USAGE;
            cli.lines_set = true;
            break;
        case 'I': {
            char *end;
            cli.interval_s = strtod(optarg, &end);
            if (end == optarg || *end || cli.interval_s < 0.01 || cli.interval_s > 3600) {
                mp_log("invalid value '%s' for --interval (0.01 to 3600 seconds)", optarg);
                return MP_EXIT_USAGE;
            }
            break;
        }
        case 'c':
            if (parse_u64("--count", optarg, &v) || v > 1000000) return MP_EXIT_USAGE;
            cli.count = (uint32_t)v;
            break;
        case 'h': usage(stdout); return MP_EXIT_OK;
        default: usage(stderr); return MP_EXIT_USAGE;
        }
    }
    cli.argc = argc - optind;
    cli.argv = argv + optind;
    if (strcmp(cmd, "info") == 0) return mp_cmd_info(&cli);
    if (strcmp(cmd, "tail") == 0) return mp_cmd_tail(&cli);
    if (strcmp(cmd, "stats") == 0) return mp_cmd_stats(&cli);
    if (strcmp(cmd, "dump") == 0) return mp_cmd_dump(&cli);
    if (strcmp(cmd, "tx") == 0) return mp_cmd_tx(&cli);
    if (strcmp(cmd, "verify") == 0) return mp_cmd_verify(&cli);
    if (strcmp(cmd, "reset") == 0) return mp_cmd_reset(&cli);
    mp_log("unknown command '%s'", cmd);
    usage(stderr);
    return MP_EXIT_USAGE;
}
