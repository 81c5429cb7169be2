// Client heartbeat (SPEC 4.2): first beat after interval x random(0,1), then every
// interval. A beat that finds the previous one unacknowledged declares the connection
// a zombie: onZombie() closes it and the engine resumes.

export class Heartbeat {
  constructor({ send, onZombie, random = Math.random, setTimer = (fn, ms) => setTimeout(fn, ms), clearTimer = (t) => clearTimeout(t) }) {
    this.send = send;
    this.onZombie = onZombie;
    this.random = random;
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.timer = null;
    this.awaitingAck = false;
    this.lastAckAt = 0;
    this.rttMs = 0;
    this.sentAt = 0;
  }

  start(intervalMs) {
    this.stop();
    this.intervalMs = intervalMs;
    this.awaitingAck = false;
    this.timer = this.setTimer(() => this.beat(), Math.floor(intervalMs * this.random()));
  }

  beat() {
    if (this.awaitingAck) {
      this.stop();
      this.onZombie();
      return;
    }
    this.awaitingAck = true;
    this.sentAt = Date.now();
    this.send();
    this.timer = this.setTimer(() => this.beat(), this.intervalMs);
  }

  ack() {
    this.awaitingAck = false;
    this.lastAckAt = Date.now();
    this.rttMs = this.lastAckAt - this.sentAt;
  }

  stop() {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }
}
