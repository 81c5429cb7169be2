/* Transaction detail lookups for GET /transactions/{hash}. */
#include "gateway/tx_detail.h"

#include "common/hex.h"
#include "readmodel/tx_store.h"

#include <errno.h>
#include <sched.h>

/* mp_txs_lookup already retries a bounded number of times, back to back; when the writer
 * was preempted inside a change of the index (or of this entry) those retries all fail.
 * A few more rounds with a yield in between give it the CPU to finish, still bounded and
 * never waiting for it. */
#define LOOKUP_ROUNDS 4

int mp_gw_tx_hash_parse(const char *text, size_t len, uint8_t hash[MP_HASH_LEN])
{
    if (len != 2 + 2 * MP_HASH_LEN || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
        return -EINVAL;
    return mp_hex_decode_fixed(hash, MP_HASH_LEN, text, len);
}

ssize_t mp_gw_tx_detail_json(const mp_rm_region_t *rm, const uint8_t hash[MP_HASH_LEN], char *out,
                             size_t cap)
{
    mp_rm_detail_t d;
    uint8_t input[MP_INPUT_PREFIX_MAX];
    uint32_t input_len = 0;
    int ret = -EAGAIN;
    for (int i = 0; i < LOOKUP_ROUNDS && ret == -EAGAIN; i++) {
        if (i) sched_yield();
        ret = mp_txs_lookup(rm, hash, &d, input, sizeof input, &input_len);
    }
    if (ret) return ret;
    mp_rm_opportunity_t opps[MP_RM_DETAIL_OPPS];
    /* Only the kinds the detail says were filed with this trigger are looked up. */
    int n =
        d.opp_kinds ? mp_rm_tx_opportunities(rm, hash, d.opp_kinds, opps, MP_RM_DETAIL_OPPS) : 0;
    if (n < 0) n = 0; /* the index kept moving: show the detail without them */
    mp_jw_t jw;
    mp_jw_init(&jw, out, cap);
    mp_rm_detail_json(&jw, &d, input, input_len, opps, (unsigned)n);
    return mp_jw_finish(&jw);
}
