/* Stream deltas shared by reference: the coalescing map (newest change per entity, an
 * upsert then a remove is a remove, bounded) and the per-channel feed lazy sessions read
 * (search by seq across index wrap, drops and the covered floor). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/stream_delta.h"
#include "gateway/stream_feed.h"

/* A record of entity `key` on channel 0 (what coalescing compares: channel and id). */
static mp_gw_enc_t *rec(uint32_t key, uint64_t seq, uint8_t op)
{
    mp_gw_enc_t *e = calloc(1, sizeof *e + 8);
    cr_assert_not_null(e);
    e->refs = 1;
    e->seq = seq;
    e->op = op;
    e->id_len = 4;
    memcpy(e->id.bytes, &key, 4);
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < 4; i++)
        h = (h ^ e->id.bytes[i]) * 0x100000001b3ull;
    e->hash = h;
    e->len = 2;
    memcpy(e->json, "{}", 2);
    return e;
}

static mp_gw_enc_t *find(const mp_gw_coalesce_t *c, uint32_t key)
{
    for (uint32_t i = 0; i < c->count; i++)
        if (!memcmp(c->items[i]->id.bytes, &key, 4)) return c->items[i];
    return NULL;
}

Test(coalesce, newest_change_per_entity_wins)
{
    mp_gw_coalesce_t c = {0};
    mp_gw_enc_t *a1 = rec(1, 10, MP_OP_UPSERT), *b = rec(2, 11, MP_OP_UPSERT),
                *a2 = rec(1, 12, MP_OP_UPSERT);
    cr_assert_eq(mp_gw_coalesce_put(&c, a1), 0);
    cr_assert_eq(mp_gw_coalesce_put(&c, b), 0);
    cr_assert_eq(mp_gw_coalesce_put(&c, a2), 0);
    cr_assert_eq(c.count, 2);
    cr_assert_eq(find(&c, 1), a2);
    cr_assert_eq(a1->refs, 1, "the replaced record's reference was dropped");
    cr_assert_eq(a2->refs, 2);
    mp_gw_coalesce_dispose(&c);
    cr_assert_eq(a2->refs, 1);
    mp_gw_enc_unref(a1);
    mp_gw_enc_unref(a2);
    mp_gw_enc_unref(b);
}

Test(coalesce, upsert_then_remove_is_a_remove)
{
    mp_gw_coalesce_t c = {0};
    mp_gw_enc_t *up = rec(7, 1, MP_OP_UPSERT), *rm = rec(7, 2, MP_OP_REMOVE);
    mp_gw_coalesce_put(&c, up);
    mp_gw_coalesce_put(&c, rm);
    cr_assert_eq(c.count, 1);
    cr_assert_eq(c.items[0]->op, MP_OP_REMOVE);
    mp_gw_coalesce_dispose(&c);
    mp_gw_enc_unref(up);
    mp_gw_enc_unref(rm);
}

Test(coalesce, bounded_at_pending_max)
{
    mp_gw_coalesce_t c = {0};
    for (uint32_t k = 0; k < MP_GW_STREAM_PENDING_MAX; k++) {
        mp_gw_enc_t *e = rec(k, k + 1, MP_OP_UPSERT);
        cr_assert_eq(mp_gw_coalesce_put(&c, e), 0);
        mp_gw_enc_unref(e);
    }
    mp_gw_enc_t *extra = rec(999999, 1u << 20, MP_OP_UPSERT);
    cr_assert_eq(mp_gw_coalesce_put(&c, extra), -ENOSPC);
    cr_assert_eq(extra->refs, 1, "refused: no reference taken");
    mp_gw_enc_t *again = rec(5, 1u << 21, MP_OP_UPSERT);
    cr_assert_eq(mp_gw_coalesce_put(&c, again), 0, "a known entity still coalesces when full");
    mp_gw_coalesce_dispose(&c);
    mp_gw_enc_unref(extra);
    mp_gw_enc_unref(again);
}

Test(coalesce, index_survives_reorder_and_shift)
{
    mp_gw_coalesce_t c = {0};
    for (uint32_t k = 0; k < 100; k++) {
        mp_gw_enc_t *e = rec(k, k + 1, MP_OP_UPSERT);
        mp_gw_coalesce_put(&c, e);
        mp_gw_enc_unref(e);
    }
    /* A flush sends the first 40 and shifts the rest down, then reindexes. */
    for (uint32_t i = 0; i < 40; i++)
        mp_gw_enc_unref(c.items[i]);
    memmove(c.items, c.items + 40, 60 * sizeof *c.items);
    c.count = 60;
    mp_gw_coalesce_reindex(&c);
    mp_gw_enc_t *newer = rec(70, 500, MP_OP_UPSERT), *sent = rec(3, 501, MP_OP_UPSERT);
    mp_gw_coalesce_put(&c, newer);
    mp_gw_coalesce_put(&c, sent);
    cr_assert_eq(c.count, 61, "70 replaced in place, 3 (already sent) added");
    cr_assert_eq(find(&c, 70), newer);
    mp_gw_coalesce_dispose(&c);
    mp_gw_enc_unref(newer);
    mp_gw_enc_unref(sent);
}

Test(feed, after_finds_the_first_newer_delta)
{
    static mp_gw_feed_t f;
    memset(&f, 0, sizeof f);
    for (uint64_t seq = 10; seq <= 100; seq += 10) {
        mp_gw_enc_t *e = rec((uint32_t)seq, seq, MP_OP_UPSERT);
        mp_gw_feed_push(&f, e);
        mp_gw_enc_unref(e);
    }
    cr_assert_eq(mp_gw_feed_at(&f, mp_gw_feed_after(&f, 0))->seq, 10);
    cr_assert_eq(mp_gw_feed_at(&f, mp_gw_feed_after(&f, 10))->seq, 20);
    cr_assert_eq(mp_gw_feed_at(&f, mp_gw_feed_after(&f, 55))->seq, 60);
    cr_assert_eq(mp_gw_feed_after(&f, 100), f.tail, "nothing after the newest");
    cr_assert_eq(mp_gw_feed_floor(&f), 0, "nothing dropped yet");
    mp_gw_feed_clear(&f);
}

Test(feed, drops_the_oldest_and_raises_the_floor)
{
    static mp_gw_feed_t f;
    memset(&f, 0, sizeof f);
    mp_gw_enc_t *first = rec(1, 1, MP_OP_UPSERT);
    mp_gw_feed_push(&f, first);
    for (uint64_t seq = 2; seq <= MP_GW_FEED_CAP + 5; seq++) {
        mp_gw_enc_t *e = rec((uint32_t)seq, seq, MP_OP_UPSERT);
        mp_gw_feed_push(&f, e);
        mp_gw_enc_unref(e);
    }
    cr_assert_eq(f.tail - f.head, MP_GW_FEED_CAP);
    cr_assert_eq(mp_gw_feed_floor(&f), 5, "seqs 1..5 dropped");
    cr_assert_eq(first->refs, 1, "a dropped delta's reference went");
    cr_assert_eq(mp_gw_feed_at(&f, mp_gw_feed_after(&f, 5))->seq, 6);
    mp_gw_feed_clear(&f);
    mp_gw_enc_unref(first);
}

Test(feed, search_holds_across_index_wrap)
{
    static mp_gw_feed_t f;
    memset(&f, 0, sizeof f);
    f.head = f.tail = UINT32_MAX - 100; /* free-running indices about to wrap */
    for (uint64_t seq = 1; seq <= 300; seq++) {
        mp_gw_enc_t *e = rec((uint32_t)seq, seq * 2, MP_OP_UPSERT);
        mp_gw_feed_push(&f, e);
        mp_gw_enc_unref(e);
    }
    cr_assert_lt(f.tail, f.head, "the tail index wrapped");
    for (uint64_t after = 0; after < 600; after += 7) {
        uint32_t i = mp_gw_feed_after(&f, after);
        uint64_t want = after / 2 * 2 + 2;
        if (want > 600)
            cr_assert_eq(i, f.tail);
        else
            cr_assert_eq(mp_gw_feed_at(&f, i)->seq, want, "after %lu", (unsigned long)after);
    }
    mp_gw_feed_clear(&f);
}
