// Every client-side bound in one place (rows, caches, queues). Tests shrink them.

export const CHANNELS = ['tx.main', 'feature.main', 'opportunity.main', 'chain.main', 'market.main'];

export const DEFAULT_CAPS = {
  txRows: 2000,
  featureTop: 256,
  featureRecent: 500,
  opportunities: 500,
  chains: 16,
  market: 64,
  feeHistory: 720, // chart points (one per fee-market update, ~1/s)
  detailEntries: 128,
  detailTtlMs: 60000,
  queueSoft: 64,
  queueHard: 256,
};
