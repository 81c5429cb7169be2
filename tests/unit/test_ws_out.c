/* Stream frames and the per-connection send ring: header encodings, shared references,
 * the slot and byte caps, and the in-flight accounting. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "gateway/ws_out.h"

static const uint8_t *bytes(const mp_gw_frame_t *f)
{
    return (const uint8_t *)f->data + f->off;
}

Test(ws_frame, short_payload_has_a_two_byte_header)
{
    mp_gw_frame_t *f = mp_gw_frame_text("hello", 5);
    cr_assert_eq(f->len, 7);
    cr_assert_eq(bytes(f)[0], 0x81); /* FIN, text */
    cr_assert_eq(bytes(f)[1], 5);    /* unmasked, length 5 */
    cr_assert_eq(memcmp(bytes(f) + 2, "hello", 5), 0);
    mp_gw_frame_unref(f);
}

Test(ws_frame, lengths_126_to_65535_use_sixteen_bits)
{
    char p[300];
    memset(p, 'x', sizeof p);
    mp_gw_frame_t *f = mp_gw_frame_text(p, 300);
    cr_assert_eq(f->len, 4 + 300);
    cr_assert_eq(bytes(f)[1], 126);
    cr_assert_eq((bytes(f)[2] << 8) | bytes(f)[3], 300);
    mp_gw_frame_unref(f);
    f = mp_gw_frame_text(p, 125);
    cr_assert_eq(f->len, 2 + 125, "125 still fits seven bits");
    mp_gw_frame_unref(f);
}

Test(ws_frame, lengths_over_65535_use_sixty_four_bits)
{
    static char p[70000];
    mp_gw_frame_t *f = mp_gw_frame_text(p, sizeof p);
    cr_assert_eq(f->len, 10 + sizeof p);
    cr_assert_eq(bytes(f)[1], 127);
    uint64_t len = 0;
    for (int i = 0; i < 8; i++)
        len = (len << 8) | bytes(f)[2 + i];
    cr_assert_eq(len, sizeof p);
    mp_gw_frame_unref(f);
}

Test(ws_out, frames_are_shared_not_copied)
{
    mp_gw_ws_out_t a = {0}, b = {0};
    mp_gw_frame_t *f = mp_gw_frame_text("batch", 5);
    cr_assert_eq(mp_gw_ws_out_push(&a, f, 1 << 20), 0);
    cr_assert_eq(mp_gw_ws_out_push(&b, f, 1 << 20), 0);
    cr_assert_eq(f->refs, 3);
    h2o_iovec_t iov[4];
    cr_assert_eq(mp_gw_ws_out_take(&a, iov, 4), 1);
    cr_assert_eq((const char *)iov[0].base, f->data + f->off, "the iovec points into the frame");
    mp_gw_ws_out_written(&a);
    mp_gw_ws_out_clear(&b);
    cr_assert_eq(f->refs, 1);
    cr_assert_eq(a.bytes + b.bytes, 0);
    mp_gw_frame_unref(f);
}

Test(ws_out, byte_cap_refuses_without_queueing)
{
    mp_gw_ws_out_t q = {0};
    mp_gw_frame_t *f = mp_gw_frame_text("0123456789", 10); /* 12 bytes */
    cr_assert_eq(mp_gw_ws_out_push(&q, f, 30), 0);
    cr_assert_eq(mp_gw_ws_out_push(&q, f, 30), 0);
    cr_assert_eq(mp_gw_ws_out_push(&q, f, 30), -ENOBUFS);
    cr_assert_eq(mp_gw_ws_out_count(&q), 2);
    cr_assert_eq(q.bytes, 24);
    mp_gw_ws_out_clear(&q);
    cr_assert_eq(f->refs, 1);
    mp_gw_frame_unref(f);
}

Test(ws_out, slot_cap_refuses_past_the_ring)
{
    mp_gw_ws_out_t q = {0};
    mp_gw_frame_t *f = mp_gw_frame_text("x", 1);
    for (unsigned i = 0; i < MP_GW_WS_OUT_SLOTS; i++)
        cr_assert_eq(mp_gw_ws_out_push(&q, f, SIZE_MAX), 0);
    cr_assert_eq(mp_gw_ws_out_push(&q, f, SIZE_MAX), -ENOBUFS);
    mp_gw_ws_out_clear(&q);
    mp_gw_frame_unref(f);
}

Test(ws_out, one_write_in_flight_at_a_time_and_order_kept)
{
    mp_gw_ws_out_t q = {0};
    mp_gw_frame_t *f[5];
    for (int i = 0; i < 5; i++) {
        char c = (char)('a' + i);
        f[i] = mp_gw_frame_text(&c, 1);
        cr_assert_eq(mp_gw_ws_out_push(&q, f[i], 1 << 20), 0);
    }
    h2o_iovec_t iov[3];
    cr_assert_eq(mp_gw_ws_out_take(&q, iov, 3), 3);
    cr_assert_eq(mp_gw_ws_out_take(&q, iov, 3), 0, "nothing while a write is in flight");
    cr_assert_eq(iov[2].base[2], 'c');
    mp_gw_ws_out_drop_waiting(&q); /* 4010: what waits goes, what is in flight stays */
    cr_assert_eq(mp_gw_ws_out_count(&q), 3);
    cr_assert_eq(f[3]->refs, 1);
    mp_gw_ws_out_written(&q);
    cr_assert_eq(mp_gw_ws_out_count(&q), 0);
    cr_assert_eq(q.bytes, 0);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(f[i]->refs, 1);
        mp_gw_frame_unref(f[i]);
    }
}

Test(ws_out, ring_indices_wrap)
{
    mp_gw_ws_out_t q = {0};
    q.head = q.tail = UINT32_MAX - 2; /* free-running counters near their wrap */
    mp_gw_frame_t *f = mp_gw_frame_text("y", 1);
    h2o_iovec_t iov[8];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4; i++)
            cr_assert_eq(mp_gw_ws_out_push(&q, f, 1 << 20), 0);
        cr_assert_eq(mp_gw_ws_out_count(&q), 4);
        cr_assert_eq(mp_gw_ws_out_take(&q, iov, 8), 4);
        mp_gw_ws_out_written(&q);
        cr_assert_eq(mp_gw_ws_out_count(&q), 0);
    }
    cr_assert_eq(f->refs, 1);
    mp_gw_frame_unref(f);
}
