/* Delta journal: append with floor raising (writer), validated copies (readers). */
#include "readmodel/journal.h"

#include <errno.h>
#include <string.h>

/* Raises the window floor so that no reader trusts what is about to be overwritten.
 * The floor is not undone by a rollback: it only moves forward (readers may lose a
 * little window, never see reused bytes). */
static void raise_floor(mp_rm_region_t *rm, uint64_t floor)
{
    if (floor > atomic_load_explicit(&rm->ctl->journal_floor_seq, memory_order_relaxed)) {
        atomic_store_explicit(&rm->ctl->journal_floor_seq, floor, memory_order_relaxed);
        /* Floor before the overwrite (pairs with the acquire fence in journal_read). */
        atomic_thread_fence(memory_order_release);
    }
}

uint64_t mp_rm_journal_append(mp_rm_writer_t *w, mp_rm_channel_t channel, mp_rm_op_t op,
                              mp_rm_kind_t kind, const mp_rm_id_t *id, uint8_t id_len,
                              const void *entity, uint32_t len, uint64_t event_time_ns)
{
    mp_rm_region_t *rm = w->rm;
    mp_rm_control_t *ctl = rm->ctl;
    uint64_t seq = w->next_journal_seq++;
    w->channel_seq[channel] = seq;
    uint64_t cap = rm->caps.journal, dcap = rm->caps.journal_bytes;
    if (seq >= cap) raise_floor(rm, seq - cap + 1);
    /* Entity bytes: a delta never wraps the byte ring (it skips to the next lap), so a
     * reader copies it in one piece. Every entry records the byte position at its append
     * (removes too), so positions grow with seq and the entries whose bytes get
     * overwritten are exactly those below the new byte floor: the seq floor walks past
     * them, amortized O(1). */
    uint64_t pos = ctl->journal_data_head;
    uint64_t off = pos & (dcap - 1);
    if (len && off + len > dcap) pos += dcap - off;
    uint64_t end = pos + len;
    if (end > dcap) {
        uint64_t byte_floor = end - dcap, f = mp_rm_journal_oldest(rm);
        while (f < seq && rm->journal[f & (cap - 1)].data_pos < byte_floor) f++;
        raise_floor(rm, f);
    }
    if (len) memcpy(rm->journal_data + (pos & (dcap - 1)), entity, len);
    ctl->journal_data_head = end;
    mp_rm_journal_entry_t *e = &rm->journal[seq & (cap - 1)];
    e->seq = seq;
    e->data_pos = pos;
    e->data_len = len;
    e->channel = (uint8_t)channel;
    e->op = (uint8_t)op;
    e->kind = (uint8_t)kind;
    e->id_len = id_len;
    e->id = *id;
    e->event_time_ns = event_time_ns;
    return seq;
}

uint64_t mp_rm_journal_oldest(const mp_rm_region_t *rm)
{
    uint64_t f = atomic_load_explicit(&rm->ctl->journal_floor_seq, memory_order_acquire);
    return f ? f : 1;
}

uint64_t mp_rm_journal_newest(const mp_rm_region_t *rm)
{
    return atomic_load_explicit(&rm->ctl->journal_seq, memory_order_acquire);
}

int mp_rm_journal_read(const mp_rm_region_t *rm, uint64_t seq, mp_rm_delta_t *out)
{
    uint64_t cap = rm->caps.journal, dcap = rm->caps.journal_bytes;
    if (seq == 0 || seq > mp_rm_journal_newest(rm)) return -EAGAIN;
    if (seq < mp_rm_journal_oldest(rm)) return -ERANGE;
    out->entry = rm->journal[seq & (cap - 1)];
    uint32_t len = out->entry.data_len;
    uint64_t off = out->entry.data_pos & (dcap - 1);
    bool sane = out->entry.seq == seq && len <= sizeof out->u && off + len <= dcap;
    if (sane && len) memcpy(&out->u, rm->journal_data + off, len);
    /* Valid only if the floor did not pass seq while we copied (release in raise_floor). */
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&rm->ctl->journal_floor_seq, memory_order_relaxed) > seq) return -ERANGE;
    return sane ? 0 : -EPROTO;
}
