/* mempulse-shm dump: every entity of one read-model channel, each with its seq, in a
 * deterministic order (entity id bytes, then kind), as a table or one JSON document.
 * Identical region states give byte-identical output. */
#include "tools/shm_cli.h"

#include "common/log.h"
#include "proto/eth_catalog.h"
#include "readmodel/opportunities.h"
#include "readmodel/rm_json.h"
#include "readmodel/rm_reader.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One copied entity with its id; zero-filled first so whole-item comparison is defined. */
typedef struct dump_item {
    mp_rm_id_t id;
    uint8_t id_len;
    uint8_t kind; /* mp_rm_kind_t */
    uint8_t reserved[6];
    mp_rm_entity_t u;
} dump_item_t;

typedef struct dump_list {
    dump_item_t *items;
    size_t count, cap;
} dump_list_t;

static int collect(void *ctx, mp_rm_kind_t kind, const void *entity)
{
    dump_list_t *l = ctx;
    size_t n = mp_rm_kind_size(kind);
    if (l->count == l->cap || n == 0) return 0; /* cannot happen: cap is the slot count */
    dump_item_t *it = &l->items[l->count++];
    mp_rm_entity_id(kind, entity, &it->id, &it->id_len);
    it->kind = (uint8_t)kind;
    memcpy(&it->u, entity, n);
    return 0;
}

/* Entity id bytes, then kind; then seq and the entity bytes, so that even two copies of
 * one id (a fuzzy copy racing the writer) come out in a fixed order. */
static int compare_items(const void *pa, const void *pb)
{
    const dump_item_t *a = pa, *b = pb;
    int c = memcmp(a->id.bytes, b->id.bytes, MP_RM_ID_LEN);
    if (c) return c;
    if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
    uint64_t sa = mp_rm_entity_seq(&a->u), sb = mp_rm_entity_seq(&b->u);
    if (sa != sb) return sa < sb ? -1 : 1;
    return memcmp(&a->u, &b->u, sizeof a->u);
}

static size_t channel_slots(const mp_rm_caps_t *c, mp_rm_channel_t ch)
{
    switch (ch) {
    case MP_CH_TX: return c->tx_ring;
    case MP_CH_FEATURE: return (size_t)c->feature_top + c->feature_recent;
    case MP_CH_OPPORTUNITY: return c->opportunity;
    case MP_CH_CHAIN: return c->chain;
    case MP_CH_MARKET: return c->market;
    default: return 0;
    }
}

/* ---- JSON ---- */

static int print_json(mp_rm_channel_t ch, uint64_t seq, const dump_list_t *l, uint64_t skipped)
{
    static char buf[MP_RM_JSON_ENTITY_MAX];
    printf("{\"channel\":\"%s\",\"seq\":%" PRIu64 ",\"count\":%zu,\"skipped\":%" PRIu64
           ",\"items\":[",
           mp_rm_channel_name(ch), seq, l->count, skipped);
    for (size_t i = 0; i < l->count; i++) {
        mp_jw_t jw;
        mp_jw_init(&jw, buf, sizeof buf);
        mp_rm_entity_json(&jw, (mp_rm_kind_t)l->items[i].kind, &l->items[i].u);
        ssize_t n = mp_jw_finish(&jw);
        if (n < 0) {
            mp_log("cannot encode entity %zu of %s: error %zd", i, mp_rm_channel_name(ch), n);
            return MP_EXIT_RUNTIME;
        }
        if (i) putchar(',');
        fwrite(buf, 1, (size_t)n, stdout);
    }
    fputs("]}\n", stdout);
    return MP_EXIT_OK;
}

/* ---- table ---- */

static const char *kind_label(unsigned kind)
{
    switch (kind) {
    case MP_KIND_TX: return "tx";
    case MP_KIND_FEATURE_TOP: return "top";
    case MP_KIND_FEATURE_RECENT: return "recent";
    case MP_KIND_OPPORTUNITY: return "opp";
    case MP_KIND_CHAIN: return "chain";
    case MP_KIND_FEE_MARKET: return "fees";
    case MP_KIND_PRICE: return "price";
    }
    return "?";
}

/* Wei as ETH with up to 6 decimals, truncated ("0", "1.5", "0.000001", "<0.000001"). */
static void format_eth(const mp_u256_t *wei, char *out, size_t cap)
{
    char dec[80];
    size_t n = mp_u256_to_dec(wei, dec);
    char whole[80], frac[19];
    if (n > 18) {
        memcpy(whole, dec, n - 18);
        whole[n - 18] = '\0';
        memcpy(frac, dec + n - 18, 18);
    } else {
        strcpy(whole, "0");
        memset(frac, '0', 18 - n);
        memcpy(frac + 18 - n, dec, n);
    }
    frac[6] = '\0'; /* 6 decimals */
    int last = 5;
    while (last >= 0 && frac[last] == '0')
        frac[last--] = '\0';
    bool dust = last < 0 && !(n == 1 && dec[0] == '0') && strcmp(whole, "0") == 0;
    if (dust)
        snprintf(out, cap, "<0.000001");
    else if (last < 0)
        snprintf(out, cap, "%s", whole);
    else
        snprintf(out, cap, "%s.%s", whole, frac);
}

static double gwei(uint64_t wei)
{
    return (double)wei / 1e9;
}

static void summary(const dump_item_t *it, char *out, size_t cap)
{
    char eth[96];
    switch (it->kind) {
    case MP_KIND_TX: {
        const mp_rm_tx_t *t = &it->u.tx;
        format_eth(&t->value, eth, sizeof eth);
        snprintf(out, cap, "%-8s %s/%s value %s ETH nonce %" PRIu64 " tip %.3f gwei",
                 mp_rm_tx_status_name(t->status), mp_protocol_name(t->protocol),
                 mp_category_name(t->category), eth, t->nonce, gwei(t->max_priority_fee));
        break;
    }
    case MP_KIND_FEATURE_TOP: {
        const mp_rm_feature_top_t *t = &it->u.top;
        snprintf(out, cap, "count %" PRIu64 " last 60 s %u gas %" PRIu64, t->count, t->rate_60s,
                 t->gas_sum);
        break;
    }
    case MP_KIND_FEATURE_RECENT: {
        const mp_rm_feature_recent_t *r = &it->u.recent;
        format_eth(&r->value, eth, sizeof eth);
        snprintf(out, cap, "%s/%s value %s ETH", mp_protocol_name(r->protocol),
                 mp_category_name(r->category), eth);
        break;
    }
    case MP_KIND_OPPORTUNITY: {
        const mp_rm_opportunity_t *o = &it->u.opp;
        snprintf(out, cap, "%s score %u %s: %.*s", mp_opp_kind_name(o->kind), o->score,
                 mp_opp_status_name(o->status), (int)strnlen(o->reason, sizeof o->reason),
                 o->reason);
        break;
    }
    case MP_KIND_CHAIN: {
        const mp_rm_chain_t *c = &it->u.chain;
        snprintf(out, cap, "head %" PRIu64 " base fee %.3f gwei pending %" PRIu64 " last 60 s %u",
                 c->head_number, gwei(c->base_fee), c->pending_count, c->tx_rate_60s);
        break;
    }
    case MP_KIND_FEE_MARKET: {
        const mp_rm_fee_market_t *f = &it->u.fee;
        snprintf(out, cap, "tip p50 %.3f p90 %.3f gwei, next base fee %.3f gwei, %u samples",
                 gwei(f->priority_fee_pct[2]), gwei(f->priority_fee_pct[4]), gwei(f->next_base_fee),
                 f->samples);
        break;
    }
    case MP_KIND_PRICE: {
        const mp_rm_price_t *p = &it->u.price;
        snprintf(out, cap, "%.*s %.6g (1 min %+.6g)", (int)strnlen(p->symbol, sizeof p->symbol),
                 p->symbol, p->price, p->change_1m);
        break;
    }
    default: snprintf(out, cap, "?"); break;
    }
}

static void print_table(mp_rm_channel_t ch, uint64_t seq, const dump_list_t *l, uint64_t skipped)
{
    printf("%s  seq %" PRIu64 "  %zu entities", mp_rm_channel_name(ch), seq, l->count);
    if (skipped) printf("  (%" PRIu64 " slots skipped: being written)", skipped);
    printf("\n%-66s %-6s %10s  %s\n", "ID", "KIND", "SEQ", "SUMMARY");
    for (size_t i = 0; i < l->count; i++) {
        const dump_item_t *it = &l->items[i];
        char id[MP_RM_ID_TEXT_MAX], line[512];
        mp_rm_id_text((mp_rm_kind_t)it->kind, &it->id, it->id_len, id);
        summary(it, line, sizeof line);
        printf("%-66s %-6s %10" PRIu64 "  %s\n", id, kind_label(it->kind), mp_rm_entity_seq(&it->u),
               line);
    }
}

static void list_channels(void)
{
    char names[128];
    size_t n = 0;
    for (unsigned c = 0; c < MP_CH_COUNT && n < sizeof names; c++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", c ? ", " : "",
                              mp_rm_channel_name(c));
    mp_log("valid channels: %s", names);
}

int mp_cmd_dump(const mp_cli_t *cli)
{
    if (cli->argc != 1) {
        mp_log("usage: mempulse-shm dump CHANNEL [--json] [--instance NAME]");
        list_channels();
        return MP_EXIT_USAGE;
    }
    const char *name = cli->argv[0];
    int ch = mp_rm_channel_from_name(name, strlen(name));
    if (ch < 0) {
        mp_log("unknown channel '%s'", name);
        list_channels();
        return MP_EXIT_USAGE;
    }
    mp_rm_region_t rm;
    int code = mp_cli_open_readmodel(cli, &rm);
    if (code) return code;
    dump_list_t l = {.cap = channel_slots(&rm.caps, (mp_rm_channel_t)ch)};
    l.items = calloc(l.cap ? l.cap : 1, sizeof *l.items);
    if (!l.items) {
        mp_log("out of memory for %zu entities", l.cap);
        code = MP_EXIT_RUNTIME;
        goto out_close;
    }
    /* The channel's seq is read before the copy (like snapshot_seq): every entity
     * changed later carries a larger seq of its own. */
    mp_rm_marks_t marks;
    mp_rm_read_marks(&rm, &marks);
    mp_rm_list_stats_t st = {0};
    mp_rm_list(&rm, (mp_rm_channel_t)ch, collect, &l, &st);
    qsort(l.items, l.count, sizeof *l.items, compare_items);
    if (st.torn)
        mp_log("%" PRIu64 " slots of %s failed their check after a consistent copy (a torn "
               "entity: a bug in the writer or reader); they are left out",
               st.torn, name);
    if (cli->json)
        code = print_json((mp_rm_channel_t)ch, marks.channel_seq[ch], &l, st.skipped);
    else
        print_table((mp_rm_channel_t)ch, marks.channel_seq[ch], &l, st.skipped);
    if (st.torn && code == MP_EXIT_OK) code = MP_EXIT_RUNTIME;
    fflush(stdout);
    free(l.items);
out_close:
    mp_rm_close(&rm);
    return code;
}
