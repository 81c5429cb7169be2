// Client message budget: the gateway closes a socket sending more than 120 messages in
// 60 s (4008). A sliding window of send times keeps us under a lower limit; callers
// that can wait (CREDIT, CLIENT_METRICS) check allow() first, essential ones reserve.

export class SendBudget {
  constructor({ max = 100, windowMs = 60000, now = () => Date.now() } = {}) {
    this.max = max;
    this.windowMs = windowMs;
    this.now = now;
    this.times = []; // bounded by max
  }

  #trim(t) {
    while (this.times.length && t - this.times[0] >= this.windowMs) this.times.shift();
  }

  /** True when a deferrable message may go now, leaving `reserve` slots spare. */
  allow(reserve = 0) {
    const t = this.now();
    this.#trim(t);
    return this.times.length + reserve < this.max;
  }

  /** Records one sent message. */
  spend() {
    const t = this.now();
    this.#trim(t);
    if (this.times.length >= this.max) this.times.shift();
    this.times.push(t);
  }

  reset() {
    this.times.length = 0;
  }
}
