// Virtualized list: a spacer sized total x rowHeight and a small pool of absolutely
// positioned row elements reused for the visible window only. The worker holds the
// data; we ask it for (start, count) on scroll and paint what it sends.
// Keyboard: the list is one tab stop; arrows / PageUp / PageDown / Home / End move the
// active row (aria-activedescendant), Enter activates it.

let nextId = 0;
/** How long the pointer rests on a row before it counts as interest in it. */
const HOVER_DWELL_MS = 150;

export class VirtualList {
  /**
   * @param {HTMLElement} el scroll container
   * @param {object} o rowHeight, build(rowEl), paint(rowEl, row), key(row),
   *   onRange(start, count), onActivate(row)
   */
  constructor(el, o) {
    this.el = el;
    this.o = o;
    this.rowH = o.rowHeight;
    this.uid = `vl${nextId++}`;
    this.spacer = document.createElement('div');
    this.spacer.className = 'vspacer';
    el.appendChild(this.spacer);
    this.pool = [];
    this.total = 0;
    this.start = 0;
    this.rows = [];
    this.active = 0;
    this.rangeQueued = false;
    el.addEventListener('scroll', () => this.#queueRange(), { passive: true });
    el.addEventListener('keydown', (e) => this.#key(e));
    // Hover intent: the owner may warm its detail cache for the row the pointer rests on.
    // Only real pointer movement counts (pointermove), then a dwell: rows streaming under
    // a pointer parked on the list fire pointerover for every row that slides by (~50/s
    // at 500 tx/s), which is no intent at all.
    el.addEventListener('pointermove', (e) => this.#hoverMove(e.target));
    el.addEventListener('pointerleave', () => this.#hoverCancel());
    el.addEventListener('click', (e) => {
      const r = e.target.closest('.vrow');
      if (!r || r.hidden) return;
      this.setActive(Number(r.dataset.index));
      const row = this.rows[Number(r.dataset.index) - this.start];
      if (row) this.o.onActivate?.(row, r);
    });
    new ResizeObserver(() => this.#queueRange()).observe(el);
  }

  visibleCount() {
    return Math.max(1, Math.ceil((this.el.clientHeight || 300) / this.rowH) + 2);
  }

  #hoverMove(target) {
    const r = target.closest?.('.vrow');
    const row = r && !r.hidden ? this.rows[Number(r.dataset.index) - this.start] : undefined;
    const key = row === undefined ? undefined : this.o.key(row);
    if (key === this.hoverKey) return;
    this.#hoverCancel();
    this.hoverKey = key;
    if (row !== undefined && this.o.onHover)
      this.hoverTimer = setTimeout(() => {
        this.hoverTimer = 0;
        this.o.onHover(row);
      }, HOVER_DWELL_MS);
  }

  #hoverCancel() {
    clearTimeout(this.hoverTimer);
    this.hoverTimer = 0;
    this.hoverKey = undefined;
  }

  #queueRange() {
    if (this.rangeQueued) return;
    this.rangeQueued = true;
    requestAnimationFrame(() => {
      this.rangeQueued = false;
      this.requestRange();
    });
  }

  requestRange() {
    const start = Math.max(0, Math.floor(this.el.scrollTop / this.rowH) - 1);
    this.o.onRange?.(start, this.visibleCount() + 1);
  }

  /** Paints a window {total, start, rows}. Only changed rows touch the DOM. */
  update(win) {
    this.total = win.total;
    this.start = win.start;
    this.rows = win.rows;
    const h = win.total * this.rowH;
    if (this.spacer.style.height !== `${h}px`) this.spacer.style.height = `${h}px`;
    // Keyed reuse: a row still in the window keeps its element (only its offset
    // changes); only entering rows are painted. New rows at the top thus cost one
    // paint each instead of repainting every slot.
    const byKey = this.byKey ?? (this.byKey = new Map());
    byKey.clear();
    for (const r of this.pool) if (r.__key !== undefined) byKey.set(r.__key, r);
    const slots = this.slots ?? (this.slots = []);
    slots.length = win.rows.length;
    const used = this.used ?? (this.used = new Set());
    used.clear();
    for (let i = 0; i < win.rows.length; i++) {
      const r = byKey.get(this.o.key(win.rows[i]));
      if (r && !used.has(r)) {
        used.add(r);
        slots[i] = r;
      } else slots[i] = null;
    }
    let free = 0;
    for (let i = 0; i < win.rows.length; i++) {
      if (slots[i]) continue;
      while (free < this.pool.length && used.has(this.pool[free])) free++;
      let r = this.pool[free];
      if (!r) {
        r = document.createElement('div');
        r.className = 'vrow';
        r.setAttribute('role', this.o.role ?? 'row');
        r.id = `${this.uid}-${this.pool.length}`;
        this.o.build(r);
        this.el.appendChild(r);
        this.pool.push(r);
      }
      used.add(r);
      slots[i] = r;
      r.__key = undefined;
    }
    for (const r of this.pool) {
      if (!used.has(r)) {
        if (!r.hidden) r.hidden = true;
        r.__key = undefined;
        r.__top = -1;
      }
    }
    for (let i = 0; i < win.rows.length; i++) {
      const r = slots[i];
      const row = win.rows[i];
      if (r.hidden) r.hidden = false;
      const idx = win.start + i;
      if (r.__top !== idx) {
        r.style.transform = `translateY(${idx * this.rowH}px)`;
        r.__top = idx;
        r.dataset.index = String(idx);
      }
      const k = this.o.key(row);
      if (r.__key !== k) {
        this.o.paint(r, row);
        r.__key = k;
      }
      const act = idx === this.active;
      if (r.classList.contains('active') !== act) r.classList.toggle('active', act);
      if (act) this.el.setAttribute('aria-activedescendant', r.id);
    }
  }

  setActive(i) {
    this.active = Math.max(0, Math.min(i, Math.max(0, this.total - 1)));
    const top = this.active * this.rowH;
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    else if (top + this.rowH > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = top + this.rowH - this.el.clientHeight;
    for (const r of this.pool) r.classList.toggle('active', Number(r.dataset.index) === this.active && !r.hidden);
    this.requestRange();
    const row = this.activeRow();
    if (row) this.o.onHover?.(row);
  }

  activeRow() {
    return this.rows[this.active - this.start];
  }

  #key(e) {
    const page = Math.max(1, this.visibleCount() - 3);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) {
      this.setActive(this.active + moves[e.key]);
      e.preventDefault();
    } else if (e.key === 'Home') {
      this.setActive(0);
      e.preventDefault();
    } else if (e.key === 'End') {
      this.setActive(this.total - 1);
      e.preventDefault();
    } else if (e.key === 'Enter' || e.key === ' ') {
      const row = this.activeRow();
      if (row) {
        e.preventDefault();
        const el = this.pool.find((r) => Number(r.dataset.index) === this.active);
        this.o.onActivate?.(row, el);
      }
    }
  }
}

/** Keyed pool of rows for short lists (<= a few dozen): reuses elements in order. */
export class RowPool {
  constructor(el, build, paint) {
    this.el = el;
    this.build = build;
    this.paint = paint;
    this.pool = [];
  }
  update(items) {
    while (this.pool.length < items.length) {
      const r = this.build();
      this.el.appendChild(r);
      this.pool.push(r);
    }
    for (let i = 0; i < this.pool.length; i++) {
      const r = this.pool[i];
      if (i >= items.length) {
        r.hidden = true;
        continue;
      }
      r.hidden = false;
      this.paint(r, items[i]);
    }
  }
}

/** A RowPool of [key, value] rows: <div class=className><span.k/><span.v.mono/></div>. */
export function keyValueRows(el, className) {
  return new RowPool(
    el,
    () => {
      const d = document.createElement('div');
      d.className = className;
      d.innerHTML = '<span class="k"></span><span class="v mono"></span>';
      return d;
    },
    (d, [k, v]) => {
      setText(d.firstChild, k);
      setText(d.lastChild, v);
    },
  );
}

/** Sets textContent only when it changed (cheap diffing for reused rows). */
export function setText(el, s) {
  if (el.textContent !== s) el.textContent = s;
}
