/* The eth source's bounded window: lookups, updates that keep age, FIFO eviction at
 * capacity, and index consistency after many evictions (backward-shift deletion). */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "ingest/eth_window.h"

static void key_of(uint8_t k[MP_ETH_WINDOW_KEY], uint32_t n)
{
    memset(k, 0, MP_ETH_WINDOW_KEY);
    /* Structured keys (address || nonce shape): only a few bytes differ. */
    k[0] = 0xab;
    k[20] = (uint8_t)(n >> 24);
    k[21] = (uint8_t)(n >> 16);
    k[22] = (uint8_t)(n >> 8);
    k[23] = (uint8_t)n;
}

Test(eth_window, rejects_capacities_that_are_not_powers_of_two)
{
    mp_eth_window_t *w = NULL;
    cr_expect_eq(mp_eth_window_create(&w, 0), -EINVAL);
    cr_expect_eq(mp_eth_window_create(&w, 3), -EINVAL);
    cr_expect_eq(mp_eth_window_create(&w, 1u << 25), -EINVAL);
    cr_expect_null(w);
}

Test(eth_window, put_then_get_returns_the_value_and_update_replaces_it)
{
    mp_eth_window_t *w;
    cr_assert_eq(mp_eth_window_create(&w, 8), 0);
    uint8_t k[32], v1[32], v2[32];
    key_of(k, 1);
    memset(v1, 0x11, sizeof v1);
    memset(v2, 0x22, sizeof v2);
    cr_expect_null(mp_eth_window_get(w, k));
    cr_expect_eq(mp_eth_window_put(w, k, v1), 1);
    cr_assert_not_null(mp_eth_window_get(w, k));
    cr_expect_eq(memcmp(mp_eth_window_get(w, k), v1, 32), 0);
    cr_expect_eq(mp_eth_window_put(w, k, v2), 0);
    cr_expect_eq(memcmp(mp_eth_window_get(w, k), v2, 32), 0);
    cr_expect_eq(mp_eth_window_count(w), 1);
    mp_eth_window_destroy(w);
}

Test(eth_window, full_window_forgets_the_oldest_key_first)
{
    mp_eth_window_t *w;
    cr_assert_eq(mp_eth_window_create(&w, 4), 0);
    uint8_t k[32];
    for (uint32_t i = 0; i < 6; i++) {
        key_of(k, i);
        mp_eth_window_put(w, k, NULL);
    }
    cr_expect_eq(mp_eth_window_count(w), 4);
    for (uint32_t i = 0; i < 6; i++) {
        key_of(k, i);
        if (i < 2)
            cr_expect_null(mp_eth_window_get(w, k), "key %u should be evicted", i);
        else
            cr_expect_not_null(mp_eth_window_get(w, k), "key %u should be held", i);
    }
    mp_eth_window_destroy(w);
}

Test(eth_window, update_keeps_the_entry_age)
{
    mp_eth_window_t *w;
    cr_assert_eq(mp_eth_window_create(&w, 2), 0);
    uint8_t a[32], b[32], c[32];
    key_of(a, 1);
    key_of(b, 2);
    key_of(c, 3);
    mp_eth_window_put(w, a, NULL);
    mp_eth_window_put(w, b, NULL);
    mp_eth_window_put(w, a, NULL); /* update: a stays the oldest */
    mp_eth_window_put(w, c, NULL);
    cr_expect_null(mp_eth_window_get(w, a));
    cr_expect_not_null(mp_eth_window_get(w, b));
    cr_expect_not_null(mp_eth_window_get(w, c));
    mp_eth_window_destroy(w);
}

Test(eth_window, exact_membership_after_many_evictions)
{
    mp_eth_window_t *w;
    const uint32_t cap = 1024, total = 50000;
    cr_assert_eq(mp_eth_window_create(&w, cap), 0);
    uint8_t k[32], v[32];
    for (uint32_t i = 0; i < total; i++) {
        key_of(k, i);
        memcpy(v, k, sizeof v);
        cr_assert_eq(mp_eth_window_put(w, k, v), 1);
    }
    cr_expect_eq(mp_eth_window_count(w), cap);
    /* Exactly the newest cap keys are found, each with its own value. */
    for (uint32_t i = 0; i < total; i++) {
        key_of(k, i);
        const uint8_t *got = mp_eth_window_get(w, k);
        if (i < total - cap) {
            cr_assert_null(got, "key %u should be gone", i);
        } else {
            cr_assert_not_null(got, "key %u lost by the index", i);
            cr_assert_eq(memcmp(got, k, 32), 0);
        }
    }
    mp_eth_window_destroy(w);
}
