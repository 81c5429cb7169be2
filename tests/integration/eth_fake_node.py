#!/usr/bin/env python3
"""A scripted Ethereum JSON-RPC WebSocket node for eth source tests (stdlib only).

Binds 127.0.0.1 only. Each accepted connection plays the next behaviour of --script
(the last one repeats): after the upgrade handshake it answers eth_chainId and
eth_subscribe, then misbehaves as told:
  good      well-formed session: a full tx, its duplicate, a replacement (same from and
            nonce), a hash-only notification whose body is fetched, a fetch that fails with
            a JSON-RPC error, then a head whose block lists the txs; stays open
  garbage   malformed messages (invalid JSON, non-objects, bad tx fields), then a close frame
  oversize  a frame header announcing 5 MiB, then a trickle of payload
  midframe  half a frame, then the socket is closed
  badaccept a 101 response with a wrong Sec-WebSocket-Accept
  nobatch   refuses JSON-RPC batches (error with a null id), answers single requests;
            announces pending txs by hash only
  hashflood --flood N distinct pending hashes, faster than they are fetched: the
            eth_getTransactionByHash requests are read and never answered
Writes one line per event to --log (connections, client frames seen unmasked).
With --tls-cert and --tls-key every connection is TLS (wss://).
"""
import argparse, base64, hashlib, json, os, socket, ssl, struct, sys, threading, time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
FROM = "0x" + "ab" * 20
TO = "0x" + "cd" * 20


def h(n):
    return "0x%064x" % n


def tx(n, nonce, fee):
    return {"type": "0x2", "chainId": "0x1", "nonce": hex(nonce), "gas": "0x5208",
            "maxFeePerGas": hex(fee), "maxPriorityFeePerGas": hex(fee // 2), "to": TO,
            "value": "0x64", "input": "0xa9059cbb" + "00" * 64, "hash": h(n), "from": FROM}


class Conn:
    def __init__(self, sock, behaviour, log):
        self.s, self.behaviour, self.log = sock, behaviour, log
        self.buf = b""

    def recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def handshake(self):
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            if not chunk:
                raise EOFError
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        key = b""
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"sec-websocket-key":
                key = v.strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        if self.behaviour == "badaccept":
            accept = base64.b64encode(b"0" * 20)
        self.s.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")

    def frame(self, payload, opcode=1):
        if isinstance(payload, str):
            payload = payload.encode()
        n = len(payload)
        if n < 126:
            hdr = struct.pack("!BB", 0x80 | opcode, n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x80 | opcode, 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x80 | opcode, 127, n)
        self.s.sendall(hdr + payload)

    def send(self, obj):
        self.frame(json.dumps(obj))

    def read_message(self):
        b0, b1 = self.recv_exact(2)
        opcode, masked, n = b0 & 15, b1 & 0x80, b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self.recv_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self.recv_exact(8))[0]
        if not masked:
            self.log("unmasked client frame")
        mask = self.recv_exact(4) if masked else b"\0\0\0\0"
        data = bytes(c ^ mask[i % 4] for i, c in enumerate(self.recv_exact(n)))
        return opcode, data

    def answer_setup(self, req):
        m = req.get("method")
        if m == "eth_chainId":
            self.send({"jsonrpc": "2.0", "id": req["id"], "result": "0x1"})
        elif m == "eth_subscribe":
            sub = "0xbbbb" if req["params"][0] == "newHeads" else "0xaaaa"
            self.log("subscribe %s" % json.dumps(req["params"]))
            self.send({"jsonrpc": "2.0", "id": req["id"], "result": sub})
            return 1
        return 0

    def note(self, params):
        self.send({"jsonrpc": "2.0", "method": "eth_subscription",
                   "params": {"subscription": params[0], "result": params[1]}})

    def serve(self):
        self.handshake()
        self.log("connection %s" % self.behaviour)
        if self.behaviour == "badaccept":
            time.sleep(1)
            return
        subs = 0
        while subs < 2:  # pending and heads
            op, data = self.read_message()
            if op == 1:
                subs += self.answer_setup(json.loads(data))
        getattr(self, "play_" + self.behaviour)()

    def play_garbage(self):
        self.frame("this is not json")
        self.frame("[1, 2, 3]")
        self.frame('{"jsonrpc":"2.0"}')
        self.note(["0xaaaa", {"hash": "0x12", "from": FROM}])
        self.frame(b"\x01\x02", opcode=2)
        time.sleep(0.3)
        self.s.sendall(struct.pack("!BBH", 0x88, 2, 1000))
        time.sleep(0.5)

    def play_oversize(self):
        self.s.sendall(struct.pack("!BBQ", 0x81, 127, 5 << 20) + b"{" * 1024)
        time.sleep(3)

    def play_hashflood(self):
        for start in range(0, FLOOD_N, 1000):
            frames = []
            for n in range(start + 1, min(start + 1000, FLOOD_N) + 1):
                b = json.dumps({"jsonrpc": "2.0", "method": "eth_subscription",
                                "params": {"subscription": "0xaaaa", "result": h(n)}}).encode()
                frames.append(struct.pack("!BBH", 0x81, 126, len(b)) + b)
            self.s.sendall(b"".join(frames))
        self.log("hashflood sent %d" % FLOOD_N)
        deadline = time.time() + 60
        while time.time() < deadline:  # read the fetches, answer none
            op, _ = self.read_message()
            if op == 8:
                return

    def play_nobatch(self):
        self.note(["0xaaaa", h(0x51)])
        self.note(["0xaaaa", h(0x52)])
        deadline = time.time() + 60
        while time.time() < deadline:
            op, data = self.read_message()
            if op == 8:
                return
            msg = json.loads(data)
            if isinstance(msg, list):
                self.log("batch refused (%d requests)" % len(msg))
                self.send({"jsonrpc": "2.0", "id": None,
                           "error": {"code": -32600, "message": "batch requests unsupported"}})
                continue
            if msg.get("method") == "eth_getTransactionByHash":
                self.log("single fetch %s" % msg["params"][0])
                n = int(msg["params"][0], 16)
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": tx(n, n, 10**9)})

    def play_midframe(self):
        self.s.sendall(struct.pack("!BBH", 0x81, 126, 1000) + b'{"jsonrpc":')
        time.sleep(0.2)

    def play_good(self):
        self.note(["0xaaaa", tx(1, 7, 2_000_000_000)])
        self.note(["0xaaaa", tx(1, 7, 2_000_000_000)])      # duplicate: one TX_SEEN
        self.note(["0xaaaa", tx(2, 7, 3_000_000_000)])      # replaces 1
        self.note(["0xaaaa", h(3)])                         # body fetched by hash
        self.note(["0xaaaa", h(4)])                         # fetch answered with an error
        head = {"number": "0x10", "hash": h(0xb10c), "parentHash": h(0), "baseFeePerGas": "0x7",
                "gasUsed": "0x5208", "gasLimit": "0x1c9c380", "timestamp": "0x65000000"}
        sent_head = False
        deadline = time.time() + 60
        while time.time() < deadline:
            op, data = self.read_message()
            if op == 8:
                return
            msg = json.loads(data)
            for req in msg if isinstance(msg, list) else [msg]:
                m, p = req.get("method"), req.get("params")
                if m == "eth_getTransactionByHash":
                    self.log("fetch %s" % p[0])
                    if p[0] == h(4):
                        self.send({"jsonrpc": "2.0", "id": req["id"],
                                   "error": {"code": -32000, "message": "scripted failure"}})
                    else:
                        body = tx(int(p[0], 16), 8, 1_000_000_000)
                        self.send([{"jsonrpc": "2.0", "id": req["id"], "result": body}])
                    if not sent_head and p[0] == h(4):
                        sent_head = True
                        self.note(["0xbbbb", head])
                elif m == "eth_getBlockByHash":
                    blk = dict(head, transactions=[h(2), h(3)])
                    self.send({"jsonrpc": "2.0", "id": req["id"], "result": blk})
                    self.log("block served")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--script", default="good")
    ap.add_argument("--flood", type=int, default=100000)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()
    global FLOOD_N
    FLOOD_N = a.flood
    script = a.script.split(",")
    lock = threading.Lock()

    def log(line):
        with lock, open(a.log, "a") as f:
            f.write(line + "\n")

    tls = None
    if a.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(a.tls_cert, a.tls_key)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    tmp = a.port_file + ".tmp"
    open(tmp, "w").write(str(srv.getsockname()[1]))
    os.rename(tmp, a.port_file)
    n = 0
    while True:
        sock, _ = srv.accept()
        behaviour = script[min(n, len(script) - 1)]
        n += 1

        def run(sock=sock, behaviour=behaviour):
            try:
                if tls:
                    sock = tls.wrap_socket(sock, server_side=True)
                    log("tls handshake done")
                Conn(sock, behaviour, log).serve()
            except (EOFError, OSError, ValueError) as e:
                log("connection ended: %s" % type(e).__name__)
            finally:
                sock.close()
        threading.Thread(target=run, daemon=True).start()


if __name__ == "__main__":
    main()
