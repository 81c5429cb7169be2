/* gateway-bench: snapshot-v2 and /transactions/{hash} latency and throughput of a real
 * ingest -> readmodel -> gateway stack on a private instance, at 20 and 5000 tx/s, next to
 * Debian's nginx serving the same snapshot bytes as a static file. Prints figures; the
 * last line is `snapshot_p99_ms=.. detail_p99_ms=.. snapshot_rps=.. nginx_static_rps=..
 * ratio=..` for the 20 tx/s phase. */
#include "common/clock.h"
#include "common/log.h"
#include "common/opts.h"
#include "tools/bench/bench_child.h"
#include "tools/bench/http_load.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define NGINX_BIN "/usr/sbin/nginx"
#define MAX_CHILDREN 8
#define MAX_DETAIL_PATHS 4096u
#define SNAPSHOT_MAX_BYTES (256u << 20)
#define READY_DEADLINE_MS 20000u
/* What a browser sends: the gateway answers full snapshots gzip-encoded, nginx serves the
 * same compressed bytes (gzip_static). */
#define ACCEPT_GZIP "Accept-Encoding: gzip\r\n"

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Every process this bench started and has not reaped yet; only these are ever signalled. */
static mp_bench_child_t children[MAX_CHILDREN];

typedef struct bench_opts {
    unsigned conns, threads;
    double snapshot_rate, detail_rate; /* open-loop offered loads (req/s); 0 skips */
    uint64_t duration_ns, warmup_ns;
    unsigned coalesce_ms;
    bool coalesce_set;
} bench_opts_t;

typedef struct bench_env {
    char bin_ingest[PATH_MAX], bin_readmodel[PATH_MAX], bin_gateway[PATH_MAX];
    char tmp[64]; /* mkdtemp result under /tmp */
    char base_instance[48];
} bench_env_t;

/* Percentiles (ms) and throughput of one run. */
typedef struct run_figures {
    double p50, p95, p99, rps;
} run_figures_t;

/* Per endpoint: saturated (closed loop: capacity, and latency that is mostly queueing
 * behind the other connections) and at the fixed offered rate (open loop: latency). */
typedef struct phase_figures {
    run_figures_t snap_sat, snap_at, det_sat, det_at;
    double snap_rate, det_rate; /* offered loads used (0: not run) */
    bool ok;
} phase_figures_t;

/* The offered load of an open-loop run: the configured rate, but at most half of what the
 * endpoint served saturated, so the run measures latency, not an ever-growing queue. */
static double offered_rate(double configured, const run_figures_t *saturated)
{
    double half = saturated->rps / 2;
    return configured < half ? configured : half;
}

/* ---- child processes ---- */

/* Starts argv[0] with stdout and stderr into tmp/<name>.log in a free slot of children;
 * returns the slot or -1 (logged). */
static int spawn(const bench_env_t *env, const char *name, char *const argv[])
{
    int slot = -1;
    for (int i = 0; i < MAX_CHILDREN; i++) {
        if (!children[i].pid) {
            slot = i;
            break;
        }
    }
    if (slot < 0) {
        mp_log("too many child processes");
        return -1;
    }
    char log_path[PATH_MAX];
    snprintf(log_path, sizeof log_path, "%s/%s.log", env->tmp, name);
    int ret = mp_bench_child_spawn(&children[slot], name, log_path, argv);
    if (ret) {
        mp_log("fork for %s: %s", name, strerror(-ret));
        return -1;
    }
    return slot;
}

static void children_stop_all(void)
{
    /* Newest first: the gateway before the readmodel before ingest. */
    for (int i = MAX_CHILDREN - 1; i >= 0; i--)
        mp_bench_child_stop(&children[i]);
}

/* ---- helpers ---- */

static int free_port(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int ret = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len))
        ret = -errno;
    else
        *port = ntohs(a.sin_port);
    close(fd);
    return ret;
}

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    return a;
}

static void remove_regions(const char *instance)
{
    char pattern[128];
    glob_t g;
    snprintf(pattern, sizeof pattern, "/dev/shm/mempulse.%s.*", instance);
    if (glob(pattern, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++)
            unlink(g.gl_pathv[i]);
        globfree(&g);
    }
}

/* Polls path until it answers 200 or the deadline passes; fails early if a watched child
 * exits (slots < 0 are skipped). */
static int wait_ready(uint16_t port, const char *path, uint32_t deadline_ms, const int *slots,
                      int nslots)
{
    struct sockaddr_in a = loopback(port);
    uint64_t deadline = mp_mono_ns() + (uint64_t)deadline_ms * 1000000u;
    int last = 0;
    while (mp_mono_ns() < deadline && !stop_requested) {
        for (int i = 0; i < nslots; i++)
            if (slots[i] >= 0 && !mp_bench_child_running(&children[slots[i]])) return -ECHILD;
        int status = 0;
        char *body = NULL;
        size_t len;
        if (mp_http_get(&a, path, 1000, 1u << 20, &status, &body, &len) == 0) {
            free(body);
            if (status == 200) return 0;
            last = status;
        }
        mp_sleep_ns(50000000u);
    }
    if (!stop_requested)
        mp_log("127.0.0.1:%u%s did not answer 200 within %u ms (last status %d)", (unsigned)port,
               path, deadline_ms, last);
    return -ETIMEDOUT;
}

static int fetch_with(uint16_t port, const char *path, const char *headers, char **body,
                      size_t *len)
{
    struct sockaddr_in a = loopback(port);
    int status = 0;
    int ret = mp_http_get_with(&a, path, headers, 10000, SNAPSHOT_MAX_BYTES, &status, body, len);
    if (ret) {
        mp_log("GET %s: %s", path, strerror(-ret));
        return ret;
    }
    if (status != 200) {
        mp_log("GET %s answered %d: %.200s", path, status, *body);
        free(*body);
        *body = NULL;
        return -EPROTO;
    }
    return 0;
}

static int fetch(uint16_t port, const char *path, char **body, size_t *len)
{
    return fetch_with(port, path, NULL, body, len);
}

static uint64_t json_u64(json_t *root, const char *obj, const char *key)
{
    json_t *o = json_object_get(root, obj);
    json_t *v = o ? json_object_get(o, key) : NULL;
    return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

/* Detail paths for the hashes on tx.main of a snapshot body; returns how many. */
static size_t detail_paths(const char *body, size_t len, char **paths, size_t max)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    if (!root) {
        mp_log("snapshot is not JSON: %s (line %d)", jerr.text, jerr.line);
        return 0;
    }
    size_t n = 0;
    json_t *ch = json_object_get(root, "channels");
    json_t *tx = ch ? json_object_get(ch, "tx.main") : NULL;
    json_t *items = tx ? json_object_get(tx, "items") : NULL;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        if (n == max) break;
        const char *h = json_string_value(json_object_get(it, "hash"));
        if (h && asprintf(&paths[n], "/transactions/%s", h) >= 0) n++;
    }
    json_decref(root);
    return n;
}

static void print_result(const char *label, const mp_load_config_t *cfg, const mp_load_result_t *r)
{
    double secs = (double)r->elapsed_ns / 1e9;
    double rps = secs > 0 ? (double)r->completed / secs : 0;
    const mp_load_hist_t *h = &r->hist;
    char how[48] = "saturated";
    if (cfg->rate > 0) snprintf(how, sizeof how, "at %.0f req/s offered", cfg->rate);
    printf("%-40s %-22s %u conns %.1f s: %llu responses (%llu not 200, %llu errors, %llu reconnects, "
           "%llu in flight at end), %.0f req/s, %.1f MB/s, %.0f B/response; latency ms "
           "p50 %.3f p95 %.3f p99 %.3f max %.3f\n",
           label, how, cfg->conns, secs, (unsigned long long)r->completed,
           (unsigned long long)r->non_200, (unsigned long long)r->errors,
           (unsigned long long)r->reconnects, (unsigned long long)r->unfinished, rps,
           secs > 0 ? (double)r->body_bytes / secs / 1e6 : 0,
           r->completed ? (double)r->body_bytes / (double)r->completed : 0,
           mp_load_hist_percentile_ms(h, 0.50), mp_load_hist_percentile_ms(h, 0.95),
           mp_load_hist_percentile_ms(h, 0.99), (double)h->max_us / 1000.0);
    fflush(stdout);
}

/* Runs the load on paths against port, closed loop (rate 0) or offered at rate req/s;
 * returns 0 and fills r (printed when label is given). */
static int load(const bench_opts_t *o, uint16_t port, const char *const *paths, size_t npaths,
                const char *headers, uint64_t duration_ns, double rate, const char *label,
                mp_load_result_t *r)
{
    mp_load_config_t cfg = {
        .addr = loopback(port),
        .paths = paths,
        .path_count = npaths,
        .conns = o->conns,
        .threads = o->threads,
        .duration_ns = duration_ns,
        /* Bound far above any loopback rate; the window ends the run first. */
        .max_requests = (duration_ns / 1000000000u + 1) * 10000000ull,
        .stop = &stop_requested,
        .headers = headers,
        .rate = rate,
    };
    int ret = mp_load_run(&cfg, r);
    if (ret) {
        mp_log("load run on port %u: %s", (unsigned)port, strerror(-ret));
        return ret;
    }
    if (label) print_result(label, &cfg, r);
    return stop_requested ? -EINTR : 0;
}

static double rps_of(const mp_load_result_t *r)
{
    return r->elapsed_ns ? (double)r->completed * 1e9 / (double)r->elapsed_ns : 0;
}

static run_figures_t figures_of(const mp_load_result_t *r)
{
    return (run_figures_t){.p50 = mp_load_hist_percentile_ms(&r->hist, 0.50),
                           .p95 = mp_load_hist_percentile_ms(&r->hist, 0.95),
                           .p99 = mp_load_hist_percentile_ms(&r->hist, 0.99),
                           .rps = rps_of(r)};
}

/* ---- phases ---- */

/* One gateway phase: a fresh stack at rate tx/s, warm-up, snapshot then detail load.
 * When snapshot_out is set, one full snapshot body is handed back (the caller frees). */
/* The snapshot as served before the timed window: plain (for its hashes and the nginx
 * file) and gzip-encoded (nginx's .gz twin). */
typedef struct snapshot_copy {
    char *plain, *gz;
    size_t plain_len, gz_len;
} snapshot_copy_t;

static int gateway_phase(const bench_env_t *env, const bench_opts_t *o, unsigned rate,
                         phase_figures_t *fig, snapshot_copy_t *copy_out)
{
    int ret = 0;
    char instance[64], rate_s[16], listen[32], coalesce_s[16];
    snprintf(instance, sizeof instance, "%s-r%u", env->base_instance, rate);
    snprintf(rate_s, sizeof rate_s, "%u", rate);
    snprintf(coalesce_s, sizeof coalesce_s, "%u", o->coalesce_ms);
    uint16_t port = 0;
    char *paths[MAX_DETAIL_PATHS] = {0};
    size_t npaths = 0;
    char *snap = NULL, *snap_gz = NULL;
    size_t snap_len = 0, snap_gz_len = 0;
    mp_load_result_t *r = malloc(sizeof *r);
    if (!r) return -ENOMEM;
    remove_regions(instance);
    if ((ret = free_port(&port))) {
        mp_log("no free loopback port: %s", strerror(-ret));
        goto out_free;
    }
    snprintf(listen, sizeof listen, "127.0.0.1:%u", (unsigned)port);

    char name[32];
    snprintf(name, sizeof name, "ingest-r%u", rate);
    char *const ingest_argv[] = {(char *)env->bin_ingest,
                                 "--instance",
                                 instance,
                                 "--source",
                                 "synthetic",
                                 "--rate",
                                 rate_s,
                                 NULL};
    int s_ingest = spawn(env, name, ingest_argv);
    snprintf(name, sizeof name, "readmodel-r%u", rate);
    char *const rm_argv[] = {(char *)env->bin_readmodel, "--instance", instance, NULL};
    int s_rm = spawn(env, name, rm_argv);
    snprintf(name, sizeof name, "gateway-r%u", rate);
    char *const gw_argv[] = {(char *)env->bin_gateway,
                             "--instance",
                             instance,
                             "--listen",
                             listen,
                             "--static",
                             "",
                             "--drain-timeout-ms",
                             "1000",
                             o->coalesce_set ? "--coalesce-ms" : NULL,
                             coalesce_s,
                             NULL};
    int s_gw = spawn(env, name, gw_argv);
    if (s_ingest < 0 || s_rm < 0 || s_gw < 0) {
        ret = -ECHILD;
        goto out_stop;
    }
    int slots[] = {s_ingest, s_rm, s_gw};
    if ((ret = wait_ready(port, "/readyz", READY_DEADLINE_MS, slots, 3))) goto out_stop;

    printf("\n== gateway phase: ingest --source synthetic --rate %u, instance %s, gateway on %s "
           "(coalesce-ms %s) ==\n",
           rate, instance, listen, o->coalesce_set ? coalesce_s : "default");
    fflush(stdout);
    /* Let the read model fill (tx ring, details, features) before anything is timed. */
    uint64_t warm_until = mp_mono_ns() + o->warmup_ns;
    while (mp_mono_ns() < warm_until && !stop_requested)
        mp_sleep_ns(50000000u);
    const char *snap_path[] = {"/dashboard/snapshot-v2"};
    if ((ret = load(o, port, snap_path, 1, ACCEPT_GZIP, 1000000000u, 0, NULL, r))) goto out_stop;

    if ((ret = fetch(port, "/dashboard/snapshot-v2", &snap, &snap_len))) goto out_stop;
    if ((ret = fetch_with(port, "/dashboard/snapshot-v2", ACCEPT_GZIP, &snap_gz, &snap_gz_len)))
        goto out_stop;
    npaths = detail_paths(snap, snap_len, paths, MAX_DETAIL_PATHS);
    if (!npaths) {
        mp_log("no transactions on tx.main after %.1f s of warm-up at %u tx/s",
               (double)o->warmup_ns / 1e9, rate);
        ret = -ENODATA;
        goto out_stop;
    }

    json_t *root = json_loadb(snap, snap_len, 0, NULL);
    uint64_t seq0 = root ? json_u64(root, "watermark", "latest_ingest_seq") : 0;
    uint64_t t0 = mp_mono_ns();
    json_decref(root);
    printf("snapshot-v2 full body %zu bytes, %zu gzip-encoded, before the window (the nginx "
           "files), %zu tx.main hashes\n",
           snap_len, snap_gz_len, npaths);

    char label[80];
    snprintf(label, sizeof label, "gateway %u tx/s snapshot-v2 (gzip):", rate);
    if ((ret = load(o, port, snap_path, 1, ACCEPT_GZIP, o->duration_ns, 0, label, r))) goto out_stop;
    fig->snap_sat = figures_of(r);
    fig->snap_rate = offered_rate(o->snapshot_rate, &fig->snap_sat);
    if (fig->snap_rate > 0) {
        if ((ret = load(o, port, snap_path, 1, ACCEPT_GZIP, o->duration_ns, fig->snap_rate, label,
                        r)))
            goto out_stop;
        fig->snap_at = figures_of(r);
    }
    /* For reference: a client that does not accept gzip gets the plain bytes. */
    snprintf(label, sizeof label, "gateway %u tx/s snapshot-v2 (identity):", rate);
    if ((ret = load(o, port, snap_path, 1, NULL, o->duration_ns / 2, 0, label, r))) goto out_stop;
    /* Fresh hashes for the timed window: at 5000 tx/s a detail lives ~13 s in a 65536-entry
     * index, so hashes from before the snapshot window would mostly be gone. */
    if ((ret = load(o, port, (const char *const *)paths, npaths, NULL, 1000000000u, 0, NULL, r)))
        goto out_stop;
    for (size_t i = 0; i < npaths; i++)
        free(paths[i]);
    npaths = 0;
    char *fresh = NULL;
    size_t fresh_len;
    if ((ret = fetch(port, "/dashboard/snapshot-v2", &fresh, &fresh_len))) goto out_stop;
    npaths = detail_paths(fresh, fresh_len, paths, MAX_DETAIL_PATHS);
    free(fresh);
    if (!npaths) {
        ret = -ENODATA;
        goto out_stop;
    }
    snprintf(label, sizeof label, "gateway %u tx/s /transactions/{h}:", rate);
    if ((ret = load(o, port, (const char *const *)paths, npaths, NULL, o->duration_ns, 0, label, r)))
        goto out_stop;
    fig->det_sat = figures_of(r);
    fig->det_rate = offered_rate(o->detail_rate, &fig->det_sat);
    if (fig->det_rate > 0) {
        if ((ret = load(o, port, (const char *const *)paths, npaths, NULL, o->duration_ns,
                        fig->det_rate, label, r)))
            goto out_stop;
        fig->det_at = figures_of(r);
    }
    if (r->non_200)
        printf("  (a /transactions/{hash} 404 is a hash evicted from tx_detail_index since the "
               "snapshot; it is still a timed lookup)\n");

    /* How far ingest got while being read: the stack kept up if this is near the rate. */
    char *after = NULL;
    size_t after_len;
    if (fetch(port, "/dashboard/snapshot-v2", &after, &after_len) == 0) {
        json_t *ra = json_loadb(after, after_len, 0, NULL);
        uint64_t seq1 = ra ? json_u64(ra, "watermark", "latest_ingest_seq") : 0;
        double secs = (double)(mp_mono_ns() - t0) / 1e9;
        printf("ingest watermark advanced %llu events in %.1f s under load (%.0f events/s; "
               "events include more than TX_SEEN)\n",
               (unsigned long long)(seq1 - seq0), secs, (double)(seq1 - seq0) / secs);
        json_decref(ra);
        free(after);
    }
    fig->ok = true;
    if (copy_out) {
        *copy_out = (snapshot_copy_t){
            .plain = snap, .plain_len = snap_len, .gz = snap_gz, .gz_len = snap_gz_len};
        snap = snap_gz = NULL;
    }
out_stop:
    children_stop_all();
    remove_regions(instance);
out_free:
    for (size_t i = 0; i < npaths; i++)
        free(paths[i]);
    free(snap);
    free(snap_gz);
    free(r);
    return ret;
}

/* nginx serving body as a static file under tmp/nginx; *rps stays 0 if it cannot run. */
static int write_file(const char *path, const char *body, size_t len)
{
    FILE *f = fopen(path, "w");
    bool ok = f && fwrite(body, 1, len, f) == len;
    if (f && fclose(f)) ok = false;
    if (!ok) mp_log("cannot write %s", path);
    return ok ? 0 : -EIO;
}

/* nginx serving the snapshot as a static file, saturated and at the offered load rate
 * (the gateway's, for a like-for-like latency). */
static int nginx_phase(const bench_env_t *env, const bench_opts_t *o, const snapshot_copy_t *snap,
                       double rate, run_figures_t *sat, run_figures_t *at)
{
    *sat = *at = (run_figures_t){0};
    if (access(NGINX_BIN, X_OK)) {
        printf("\nnginx: %s not found; install it with 'apt-get install nginx-light' (or "
               "'nginx'), or deploy/install-deps --bench, to get nginx_static_rps\n",
               NGINX_BIN);
        return 0;
    }
    int ret = 0;
    char dir[PATH_MAX], www[PATH_MAX + 8], file[PATH_MAX + 32], gz[PATH_MAX + 40];
    char conf[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/nginx", env->tmp);
    snprintf(www, sizeof www, "%s/www", dir);
    snprintf(file, sizeof file, "%s/snapshot-v2.json", www);
    snprintf(gz, sizeof gz, "%s/snapshot-v2.json.gz", www);
    snprintf(conf, sizeof conf, "%s/nginx.conf", dir);
    if (mkdir(dir, 0700) || mkdir(www, 0700)) {
        mp_log("mkdir %s: %s", www, strerror(errno));
        return -errno;
    }
    if ((ret = write_file(file, snap->plain, snap->plain_len))) return ret;
    if ((ret = write_file(gz, snap->gz, snap->gz_len))) return ret;
    uint16_t port = 0;
    if ((ret = free_port(&port))) return ret;
    FILE *f = fopen(conf, "w");
    if (!f) return -errno;
    /* One process like the gateway; every path nginx writes stays in the temp dir. */
    fprintf(f,
            "daemon off;\nmaster_process off;\nworker_processes 1;\n"
            "pid %s/nginx.pid;\nerror_log %s/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  tcp_nodelay on;\n"
            "  keepalive_timeout 65;\n  keepalive_requests 100000000;\n"
            "  default_type application/json;\n  gzip_static on;\n"
            "  client_body_temp_path %s/body;\n  proxy_temp_path %s/proxy;\n"
            "  fastcgi_temp_path %s/fastcgi;\n  uwsgi_temp_path %s/uwsgi;\n"
            "  scgi_temp_path %s/scgi;\n"
            "  server {\n    listen 127.0.0.1:%u;\n    root %s;\n  }\n"
            "}\n",
            dir, dir, dir, dir, dir, dir, dir, (unsigned)port, www);
    if (fclose(f)) return -EIO;
    char *const argv[] = {NGINX_BIN, "-p", dir, "-c", conf, "-e", "stderr", NULL};
    int slot = spawn(env, "nginx", argv);
    if (slot < 0) return -ECHILD;
    mp_load_result_t *r = malloc(sizeof *r);
    const char *path[] = {"/snapshot-v2.json"};
    if (!r) {
        ret = -ENOMEM;
        goto out_stop;
    }
    if ((ret = wait_ready(port, path[0], 10000, &slot, 1))) goto out_stop;
    printf("\n== nginx %s: the same snapshot bytes as a static file on 127.0.0.1:%u, the %zu "
           "gzip bytes to clients that accept gzip (gzip_static; worker_processes 1, sendfile, "
           "keep-alive) ==\n",
           NGINX_BIN, (unsigned)port, snap->gz_len);
    if ((ret = load(o, port, path, 1, ACCEPT_GZIP, 1000000000u, 0, NULL, r))) goto out_stop;
    if ((ret = load(o, port, path, 1, ACCEPT_GZIP, o->duration_ns, 0, "nginx static file (gzip):",
                    r)))
        goto out_stop;
    *sat = figures_of(r);
    if (rate > 0) {
        if ((ret = load(o, port, path, 1, ACCEPT_GZIP, o->duration_ns, rate,
                        "nginx static file (gzip):", r)))
            goto out_stop;
        *at = figures_of(r);
    }
out_stop:
    mp_bench_child_stop(&children[slot]);
    free(r);
    return ret;
}

/* ---- main ---- */

static void print_run(const char *name, const char *how, const run_figures_t *f)
{
    printf(" %s_%s_p50_ms=%.3f %s_%s_p95_ms=%.3f %s_%s_p99_ms=%.3f %s_%s_rps=%.0f", name, how,
           f->p50, name, how, f->p95, name, how, f->p99, name, how, f->rps);
}

static void print_phase(const char *label, const phase_figures_t *f)
{
    printf("%s:", label);
    print_run("snapshot", "saturated", &f->snap_sat);
    if (f->snap_rate > 0) print_run("snapshot", "offered", &f->snap_at);
    print_run("detail", "saturated", &f->det_sat);
    if (f->det_rate > 0) print_run("detail", "offered", &f->det_at);
    printf("\n");
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gateway-bench [--duration SEC] [--warmup SEC] [--conns N] [--threads N]\n"
            "                     [--snapshot-rate N] [--detail-rate N] [--coalesce-ms N]\n"
            "  --duration SEC   measurement window per endpoint and phase (10)\n"
            "  --warmup SEC     read-model fill time after /readyz, before the timed runs (20; at "
            "20 tx/s\n"
            "                   the full snapshot grows with it, ~400 KB after 20 s)\n"
            "  --conns N        concurrent keep-alive connections (64)\n"
            "  --threads N      load-generator threads (half the CPUs, 1..4)\n"
            "  --snapshot-rate N, --detail-rate N\n"
            "                   offered load (req/s over the connections) of the open-loop runs\n"
            "                   whose latency is reported (5000, 10000; at most half of what\n"
            "                   the endpoint served saturated; 0 skips them)\n"
            "  --coalesce-ms N  passed to mempulse-gateway (its default otherwise)\n"
            "Starts ingest, readmodel and gateway from this build on a private instance, at 20\n"
            "and then 5000 tx/s, and nginx (" NGINX_BIN ") on the same snapshot bytes. Each\n"
            "endpoint runs saturated (closed loop: requests/s; its latency is mostly waiting behind\n"
            "the other connections) and at the offered rate (open loop: latency from when each\n"
            "request was due). The last line takes latency from the offered-rate runs and\n"
            "requests/s from the saturated ones.\n");
}

static int find_binaries(bench_env_t *env)
{
    const char *progs[] = {"ingest/mempulse-ingest", "readmodel/mempulse-readmodel",
                           "gateway/mempulse-gateway"};
    char *paths[] = {env->bin_ingest, env->bin_readmodel, env->bin_gateway};
    for (int i = 0; i < 3; i++) {
        int rc = mp_bench_build_path(progs[i], paths[i], sizeof env->bin_ingest);
        if (rc) {
            mp_log("the path of %s: %s", progs[i], strerror(-rc));
            return rc;
        }
        if (access(paths[i], X_OK)) {
            mp_log("%s is missing (%s); build it first: ninja -C <build dir>", paths[i],
                   strerror(errno));
            return -ENOENT;
        }
    }
    return 0;
}

static void remove_tmp(const char *tmp)
{
    /* Only what this bench created: the child logs and the nginx tree. */
    static const char *const files[] = {"ingest-r20.log",
                                        "readmodel-r20.log",
                                        "gateway-r20.log",
                                        "ingest-r5000.log",
                                        "readmodel-r5000.log",
                                        "gateway-r5000.log",
                                        "nginx.log",
                                        "nginx/www/snapshot-v2.json",
                                        "nginx/www/snapshot-v2.json.gz",
                                        "nginx/nginx.conf",
                                        "nginx/nginx.pid",
                                        "nginx/error.log"};
    static const char *const dirs[] = {"nginx/www",   "nginx/body", "nginx/proxy", "nginx/fastcgi",
                                       "nginx/uwsgi", "nginx/scgi", "nginx"};
    char p[PATH_MAX + 64];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmp, files[i]);
        unlink(p);
    }
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", tmp, dirs[i]);
        rmdir(p);
    }
    if (rmdir(tmp)) mp_log("could not remove %s: %s", tmp, strerror(errno));
}

int main(int argc, char **argv)
{
    mp_log_init("gateway-bench");
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    bench_opts_t o = {.conns = 64,
                      .duration_ns = 10000000000ull,
                      .warmup_ns = 20000000000ull,
                      .snapshot_rate = 5000,
                      .detail_rate = 10000};
    o.threads = ncpu >= 4 ? (unsigned)(ncpu / 2) : 1;
    if (o.threads > 4) o.threads = 4;
    static const struct option opts[] = {
        {"duration", required_argument, 0, 'd'},
        {"warmup", required_argument, 0, 'w'},
        {"conns", required_argument, 0, 'c'},
        {"threads", required_argument, 0, 't'},
        {"coalesce-ms", required_argument, 0, 'C'},
        {"snapshot-rate", required_argument, 0, 'S'},
        {"detail-rate", required_argument, 0, 'D'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    uint64_t v;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (mp_opts_uint("duration", optarg, 1, 3600, &v)) return 2;
            o.duration_ns = v * 1000000000ull;
            break;
        case 'w':
            if (mp_opts_uint("warmup", optarg, 0, 600, &v)) return 2;
            o.warmup_ns = v * 1000000000ull;
            break;
        case 'c':
            if (mp_opts_uint("conns", optarg, 1, 10000, &v)) return 2;
            o.conns = (unsigned)v;
            break;
        case 't':
            if (mp_opts_uint("threads", optarg, 1, 64, &v)) return 2;
            o.threads = (unsigned)v;
            break;
        case 'C':
            if (mp_opts_uint("coalesce-ms", optarg, 0, 60000, &v)) return 2;
            o.coalesce_ms = (unsigned)v;
            o.coalesce_set = true;
            break;
        case 'S':
        case 'D':
            if (mp_opts_uint(c == 'S' ? "snapshot-rate" : "detail-rate", optarg, 0, 10000000, &v))
                return 2;
            *(c == 'S' ? &o.snapshot_rate : &o.detail_rate) = (double)v;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        mp_log("unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (o.threads > o.conns) o.threads = o.conns;

    bench_env_t env = {0};
    if (find_binaries(&env)) return 2;
    snprintf(env.base_instance, sizeof env.base_instance, "bench-gw-%d", (int)getpid());
    snprintf(env.tmp, sizeof env.tmp, "/tmp/mempulse-gwbench.XXXXXX");
    if (!mkdtemp(env.tmp)) {
        mp_log("mkdtemp %s: %s", env.tmp, strerror(errno));
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    printf("gateway-bench: %u keep-alive connections on %u load thread(s), %.0f s per endpoint, "
           "%.0f s warm-up, %ld CPU(s) shared by the load generator and the servers\n",
           o.conns, o.threads, (double)o.duration_ns / 1e9, (double)o.warmup_ns / 1e9, ncpu);
    fflush(stdout);
    int ret;
    phase_figures_t slow = {0}, fast = {0};
    snapshot_copy_t snap = {0};
    run_figures_t nginx_sat, nginx_at;
    if ((ret = gateway_phase(&env, &o, 20, &slow, &snap))) goto out;
    if ((ret = nginx_phase(&env, &o, &snap, slow.snap_rate, &nginx_sat, &nginx_at))) goto out;
    if ((ret = gateway_phase(&env, &o, 5000, &fast, NULL))) goto out;

    printf("\n");
    print_phase("phase_5000", &fast);
    print_phase("phase_20", &slow);
    printf("nginx: saturated_rps=%.0f saturated_p99_ms=%.3f", nginx_sat.rps, nginx_sat.p99);
    if (slow.snap_rate > 0)
        printf(" offered_%.0f_p50_ms=%.3f offered_%.0f_p99_ms=%.3f", slow.snap_rate, nginx_at.p50,
               slow.snap_rate, nginx_at.p99);
    printf("\n");
    const run_figures_t *snap_lat = slow.snap_rate > 0 ? &slow.snap_at : &slow.snap_sat;
    const run_figures_t *det_lat = slow.det_rate > 0 ? &slow.det_at : &slow.det_sat;
    printf("snapshot_p99_ms=%.3f detail_p99_ms=%.3f snapshot_rps=%.0f nginx_static_rps=%.0f "
           "ratio=%.3f\n",
           snap_lat->p99, det_lat->p99, slow.snap_sat.rps, nginx_sat.rps,
           nginx_sat.rps > 0 ? slow.snap_sat.rps / nginx_sat.rps : 0.0);
out:
    children_stop_all();
    free(snap.plain);
    free(snap.gz);
    char instance[64];
    snprintf(instance, sizeof instance, "%s-r20", env.base_instance);
    remove_regions(instance);
    snprintf(instance, sizeof instance, "%s-r5000", env.base_instance);
    remove_regions(instance);
    remove_tmp(env.tmp);
    if (stop_requested) {
        mp_log("interrupted; child processes stopped and temp files removed");
        return 1;
    }
    return ret ? 1 : 0;
}
