// Per-channel ordering state (SPEC 4.2 "Ordering and gaps", the Binance `pu` rule):
// a batch applies only when its prev_seq equals the last seq applied on that channel.
// Otherwise the channel pauses and goes through a mini-resync of its own:
//   live --gap--> fetching --snapshot applied--> subscribing --SUBSCRIBED--> live
// Batches arriving while not live are dropped: the snapshot and the re-subscription
// cover them. `epoch` invalidates a resync overtaken by a reconnect.

export class ChannelSync {
  constructor(name) {
    this.name = name;
    this.lastSeq = 0;
    this.state = 'live';
    this.epoch = 0;
    this.gaps = 0;
    this.resyncs = 0; // completed mini-resyncs
    this.dropped = 0; // batches dropped while resyncing
    this.gapFrom = 0; // last good seq when the gap was seen
  }

  /** Decides what to do with a DELTA_BATCH: 'apply' (lastSeq advanced), 'gap' (the
   *  caller starts a mini-resync from gapFrom) or 'drop'. */
  accept(batch) {
    if (this.state !== 'live') {
      this.dropped++;
      return 'drop';
    }
    if (batch.prev_seq !== this.lastSeq) {
      this.gaps++;
      this.gapFrom = this.lastSeq;
      this.state = 'fetching';
      this.epoch++;
      return 'gap';
    }
    this.lastSeq = batch.seq;
    return 'apply';
  }

  /** RESYNC_REQUIRED from the server: same path as a detected gap (not counted as a
   *  client-detected gap). Returns false when a resync is already running. */
  requireResync() {
    if (this.state !== 'live') return false;
    this.gapFrom = this.lastSeq;
    this.state = 'fetching';
    this.epoch++;
    return true;
  }

  /** The channel snapshot for `epoch` was applied; SUBSCRIBE goes out next. */
  fetched(epoch) {
    if (epoch !== this.epoch || this.state !== 'fetching') return false;
    this.state = 'subscribing';
    return true;
  }

  /** The fetch failed: back to fetching later (the caller retries). */
  failed(epoch) {
    return epoch === this.epoch && this.state === 'fetching';
  }

  /** SUBSCRIBED carried our position: batches chain from it again. */
  subscribed(pos) {
    if (this.state !== 'subscribing') return false;
    this.lastSeq = pos;
    this.state = 'live';
    this.resyncs++;
    return true;
  }

  /** READY / RESUMED set every position; any resync in flight is void. */
  resetTo(seq) {
    this.lastSeq = seq;
    this.state = 'live';
    this.epoch++;
  }
}
