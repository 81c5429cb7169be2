/* The readmodel engine over a real region: every bounded section evicts with a remove
 * delta, details obey CLOCK and the event-time TTL, status changes move tx.main, the
 * journal window slides, and an unfinished batch rolls back to the last commit. */
#include <criterion/criterion.h>

#include "proto/eth_catalog.h"
#include "readmodel/apply.h"
#include "readmodel/journal.h"
#include "readmodel/rm_reader.h"
#include "readmodel/tx_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1700000000000000000ull
#define SEC 1000000000ull

static char dir[64];
static mp_rm_region_t rm;
static mp_rm_engine_t *eng;
static int instance_no;

static void open_region(mp_rm_caps_t *caps)
{
    char err[MP_REGION_ERR_MAX], inst[32];
    snprintf(inst, sizeof inst, "t%d", instance_no++);
    cr_assert_eq(mp_rm_open_writer(&rm, inst, caps, true, err), 0, "%s", err);
    eng = calloc(1, sizeof *eng);
    cr_assert_not_null(eng);
    mp_rm_engine_init(eng, &rm);
}

static void small_caps(mp_rm_caps_t *c)
{
    mp_rm_caps_default(c);
    c->tx_ring = 16;
    c->detail = 32;
    c->input_bytes = 16384;
    c->feature_recent = 16;
    c->opportunity = 16;
    c->journal = 1024;
    c->journal_bytes = 1u << 20;
    c->undo_bytes = 8u << 20;
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/mp-rm-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    setenv("MEMPULSE_SHM_DIR", dir, 1);
    mp_rm_caps_t caps;
    small_caps(&caps);
    open_region(&caps);
}

static void teardown(void)
{
    mp_rm_close(&rm);
    free(eng);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) { /* best effort */
    }
}

static void hash_of(uint64_t i, uint8_t out[MP_HASH_LEN])
{
    memset(out, 0, MP_HASH_LEN);
    uint64_t x = i * 0x9e3779b97f4a7c15ull + 1;
    for (int k = 0; k < 4; k++) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ull;
        memcpy(out + 8 * k, &x, 8);
    }
}

static uint8_t calldata[68];

/* A plain ERC-20 transfer, or (liquidation) Aave's liquidationCall, seen at time t. */
static mp_event_t tx_event(uint64_t i, uint64_t t, bool liquidation)
{
    mp_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = MP_EV_TX_SEEN;
    ev.time_ns = t;
    mp_tx_seen_t *tx = &ev.u.tx;
    tx->chain_id = 1;
    hash_of(i, tx->hash);
    tx->from[0] = (uint8_t)i;
    tx->has_to = true;
    const mp_catalog_address_t *a = mp_catalog_address_by_label(liquidation ? "Aave v3 Pool" : "USDC");
    if (a) memcpy(tx->to, a->addr, MP_ADDR_LEN);
    tx->nonce = i;
    tx->gas_limit = 100000;
    tx->max_fee = 30000000000ull;
    tx->max_priority_fee = 1000000000ull + i;
    tx->gas_price = tx->max_fee;
    tx->tx_type = 2;
    static const uint8_t transfer[4] = {0xa9, 0x05, 0x9c, 0xbb}, liq[4] = {0x00, 0xa7, 0x18, 0xa9};
    memset(calldata, 0, sizeof calldata);
    memcpy(calldata, liquidation ? liq : transfer, 4);
    tx->input_prefix = calldata;
    tx->input_prefix_len = tx->input_len = sizeof calldata;
    return ev;
}

static void apply(const mp_event_t *ev)
{
    mp_rm_batch_begin(&eng->w);
    mp_rm_apply_event(eng, ev);
    mp_rm_commit(&eng->w, atomic_load(&rm.ctl->applied_seq) + 1, eng->event_time_ns);
}

static void apply_status(int type, uint64_t i, uint64_t t)
{
    mp_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = (uint16_t)type;
    ev.time_ns = t;
    uint8_t h[MP_HASH_LEN];
    hash_of(i, h);
    if (type == MP_EV_TX_MINED) {
        ev.u.mined.chain_id = 1;
        memcpy(ev.u.mined.hash, h, MP_HASH_LEN);
        ev.u.mined.block_number = 100;
    } else if (type == MP_EV_TX_DROPPED) {
        ev.u.dropped.chain_id = 1;
        memcpy(ev.u.dropped.hash, h, MP_HASH_LEN);
    } else {
        ev.u.replaced.chain_id = 1;
        memcpy(ev.u.replaced.hash, h, MP_HASH_LEN);
        hash_of(i + 1000000, ev.u.replaced.replaced_by);
    }
    apply(&ev);
}

static int count_cb(void *ctx, mp_rm_kind_t kind, const void *e)
{
    (void)e;
    int *counts = ctx;
    counts[kind]++;
    return 0;
}

static int count_kind(mp_rm_channel_t ch, mp_rm_kind_t kind)
{
    int counts[16] = {0};
    mp_rm_list_stats_t st = {0};
    mp_rm_list(&rm, ch, count_cb, counts, &st);
    cr_assert_eq(st.torn + st.skipped, 0);
    return counts[kind];
}

/* Journal entries on a channel with op, and (optional) the first matching id. */
static int count_journal(mp_rm_channel_t ch, mp_rm_op_t op, const uint8_t *id32)
{
    int n = 0;
    for (uint64_t s = mp_rm_journal_oldest(&rm); s <= mp_rm_journal_newest(&rm); s++) {
        mp_rm_delta_t d;
        cr_assert_eq(mp_rm_journal_read(&rm, s, &d), 0, "journal seq %lu", (unsigned long)s);
        if (d.entry.channel == ch && d.entry.op == op &&
            (!id32 || memcmp(d.entry.id.bytes, id32, MP_HASH_LEN) == 0))
            n++;
    }
    return n;
}

static bool known(uint64_t i)
{
    uint8_t h[MP_HASH_LEN], input[64];
    uint32_t n;
    mp_rm_detail_t d;
    hash_of(i, h);
    return mp_txs_lookup(&rm, h, &d, input, sizeof input, &n) == 0;
}

TestSuite(readmodel, .init = setup, .fini = teardown);

Test(readmodel, tx_ring_keeps_the_latest_and_removes_the_evicted)
{
    for (uint64_t i = 0; i < 20; i++) {
        mp_event_t ev = tx_event(i, T0 + i, false);
        apply(&ev);
    }
    cr_assert_eq(count_kind(MP_CH_TX, MP_KIND_TX), 16);
    for (uint64_t i = 0; i < 4; i++) {
        uint8_t h[MP_HASH_LEN];
        hash_of(i, h);
        cr_assert_eq(count_journal(MP_CH_TX, MP_OP_REMOVE, h), 1, "remove of tx %lu", (unsigned long)i);
    }
    cr_assert_eq(count_journal(MP_CH_TX, MP_OP_REMOVE, NULL), 4);
    cr_assert_eq(count_journal(MP_CH_TX, MP_OP_UPSERT, NULL), 20);
}

Test(readmodel, details_are_bounded_by_count_with_clock_eviction)
{
    for (uint64_t i = 0; i < 40; i++) {
        mp_event_t ev = tx_event(i, T0 + i, false);
        apply(&ev);
    }
    cr_assert_eq(rm.ctl->detail_count, 32);
    int gone = 0;
    for (uint64_t i = 0; i < 40; i++) gone += !known(i);
    cr_assert_eq(gone, 8);
    for (uint64_t i = 32; i < 40; i++) cr_assert(known(i), "newest tx %lu kept", (unsigned long)i);
    cr_assert_eq(mp_metrics_read(rm.metrics, "dashboard_evictions_total"), 8);
}

Test(readmodel, referenced_detail_gets_a_second_chance)
{
    for (uint64_t i = 0; i < 32; i++) {
        mp_event_t ev = tx_event(i, T0 + i, false);
        apply(&ev);
    }
    apply_status(MP_EV_TX_REPLACED, 0, T0 + 100); /* tx 0 is referenced now */
    mp_event_t ev = tx_event(100, T0 + 200, false);
    apply(&ev);
    cr_assert(known(0), "the referenced oldest detail survived");
    cr_assert_not(known(1), "the next unreferenced one was evicted");
}

Test(readmodel, details_expire_on_event_time_ttl_with_tx_remove)
{
    mp_event_t ev = tx_event(1, T0, false);
    apply(&ev);
    ev = tx_event(2, T0 + 500 * SEC, false);
    apply(&ev);
    mp_event_t tick = {.type = MP_EV_TICK, .time_ns = T0 + 601 * SEC};
    apply(&tick);
    cr_assert_not(known(1), "older than the 10 min TTL");
    cr_assert(known(2));
    uint8_t h[MP_HASH_LEN];
    hash_of(1, h);
    cr_assert_eq(count_journal(MP_CH_TX, MP_OP_REMOVE, h), 1);
    cr_assert_eq(count_kind(MP_CH_TX, MP_KIND_TX), 1);
}

Test(readmodel, mined_and_dropped_leave_tx_main_replaced_stays)
{
    for (uint64_t i = 0; i < 3; i++) {
        mp_event_t ev = tx_event(i, T0 + i, false);
        apply(&ev);
    }
    apply_status(MP_EV_TX_MINED, 0, T0 + 10);
    apply_status(MP_EV_TX_DROPPED, 1, T0 + 11);
    apply_status(MP_EV_TX_REPLACED, 2, T0 + 12);
    cr_assert_eq(count_kind(MP_CH_TX, MP_KIND_TX), 1);
    uint8_t h[MP_HASH_LEN], input[256];
    uint32_t n;
    mp_rm_detail_t d;
    hash_of(0, h);
    cr_assert_eq(mp_txs_lookup(&rm, h, &d, input, sizeof input, &n), 0);
    cr_assert_eq(d.tx.status, MP_TX_MINED);
    cr_assert_eq(d.tx.block_number, 100);
    cr_assert_eq(d.history_count, 2);
    cr_assert_eq(n, sizeof calldata, "calldata kept");
    hash_of(2, h);
    cr_assert_eq(mp_txs_lookup(&rm, h, &d, input, sizeof input, &n), 0);
    cr_assert_eq(d.tx.status, MP_TX_REPLACED);
    cr_assert_eq(count_journal(MP_CH_TX, MP_OP_REMOVE, NULL), 2);
    cr_assert_eq(mp_txs_pending(&rm, 1), 0);
}

Test(readmodel, feature_recent_ring_is_bounded_with_removes)
{
    for (uint64_t i = 0; i < 20; i++) {
        mp_event_t ev = tx_event(i, T0 + i, false);
        apply(&ev);
    }
    cr_assert_eq(count_kind(MP_CH_FEATURE, MP_KIND_FEATURE_RECENT), 16);
    cr_assert_eq(count_kind(MP_CH_FEATURE, MP_KIND_FEATURE_TOP), 1);
    int removes = 0;
    for (uint64_t s = mp_rm_journal_oldest(&rm); s <= mp_rm_journal_newest(&rm); s++) {
        mp_rm_delta_t d;
        cr_assert_eq(mp_rm_journal_read(&rm, s, &d), 0);
        removes += d.entry.op == MP_OP_REMOVE && d.entry.kind == MP_KIND_FEATURE_RECENT;
    }
    cr_assert_eq(removes, 4);
}

Test(readmodel, opportunity_ring_is_bounded_with_removes)
{
    for (uint64_t i = 0; i < 20; i++) {
        mp_event_t ev = tx_event(i, T0 + i, true);
        apply(&ev);
    }
    int n = count_kind(MP_CH_OPPORTUNITY, MP_KIND_OPPORTUNITY);
    cr_assert_eq(n, 16, "liquidationCall fires a candidate per tx; the ring keeps 16 (got %d)", n);
    cr_assert_eq(count_journal(MP_CH_OPPORTUNITY, MP_OP_REMOVE, NULL), 4);
}

Test(readmodel, journal_window_slides_and_old_seqs_are_out_of_range)
{
    for (uint64_t i = 0; i < 600; i++) { /* ~3 deltas per tx: past the 1024-entry journal */
        mp_event_t ev = tx_event(i, T0 + i, false);
        apply(&ev);
    }
    uint64_t oldest = mp_rm_journal_oldest(&rm), newest = mp_rm_journal_newest(&rm);
    cr_assert_gt(oldest, 1);
    cr_assert_leq(newest - oldest + 1, 1024);
    mp_rm_delta_t d;
    cr_assert_eq(mp_rm_journal_read(&rm, oldest - 1, &d), -ERANGE);
    cr_assert_eq(mp_rm_journal_read(&rm, newest + 1, &d), -EAGAIN);
    cr_assert_eq(mp_rm_journal_read(&rm, newest, &d), 0);
    cr_assert_eq(d.entry.seq, newest);
}

Test(readmodel, recovery_restores_published_state)
{
    for (uint64_t i = 0; i < 10; i++) {
        mp_event_t ev = tx_event(i, T0 + i, false);
        apply(&ev);
    }
    uint64_t journal = mp_rm_journal_newest(&rm), applied = atomic_load(&rm.ctl->applied_seq);
    uint32_t details = rm.ctl->detail_count;
    mp_rm_batch_begin(&eng->w);
    for (uint64_t i = 10; i < 30; i++) {
        mp_event_t ev = tx_event(i, T0 + i, i % 2);
        mp_rm_apply_event(eng, &ev);
    }
    cr_assert_gt(mp_undo_recover(rm.undo, rm.region.base, rm.region.size), 0);
    cr_assert_eq(rm.ctl->detail_count, details);
    cr_assert_eq(mp_rm_journal_newest(&rm), journal);
    cr_assert_eq(atomic_load(&rm.ctl->applied_seq), applied);
    cr_assert_eq(count_kind(MP_CH_TX, MP_KIND_TX), 10);
    cr_assert_eq(count_kind(MP_CH_OPPORTUNITY, MP_KIND_OPPORTUNITY), 0);
    for (uint64_t i = 10; i < 30; i++) cr_assert_not(known(i));
    for (uint64_t i = 0; i < 10; i++) cr_assert(known(i));
}
