// Full-jitter exponential backoff (SPEC 4.2): the ceiling doubles from baseMs up to
// capMs; each delay is uniform in [0, ceiling]. reset() after a successful session.

export class Backoff {
  constructor({ baseMs = 500, capMs = 20000, random = Math.random } = {}) {
    this.baseMs = baseMs;
    this.capMs = capMs;
    this.random = random;
    this.attempt = 0;
  }

  /** Ceiling for the current attempt. */
  ceiling() {
    return Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
  }

  /** Next delay in ms; advances the attempt counter. */
  next() {
    const d = Math.floor(this.random() * this.ceiling());
    this.attempt++;
    return d;
  }

  reset() {
    this.attempt = 0;
  }
}
