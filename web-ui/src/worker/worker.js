// Web Worker entry: owns the socket and the reducer (engine.js); the page only renders.

import { Engine } from './engine.js';

let engine = null;

self.onmessage = (ev) => {
  const m = ev.data;
  if (m.type === 'init') {
    engine = new Engine({
      base: m.base,
      wsUrl: m.wsUrl,
      test: !!m.test,
      caps: m.caps ?? {},
      post: (msg) => self.postMessage(msg),
      fetchFn: (...a) => fetch(...a),
    });
    engine.start();
    return;
  }
  if (m.type === 'test' && m.cmd === 'state' && engine) {
    self.postMessage({ type: 'test', cmd: 'state', id: m.id, state: engine.testState() });
    return;
  }
  engine?.onPageMessage(m);
};
