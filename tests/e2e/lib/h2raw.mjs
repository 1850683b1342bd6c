// A hand-rolled HTTP/2 client (prior knowledge, cleartext) for what node's http2 module refuses to
// send: pseudo-headers with spaces, tabs, CR/LF or bytes >= 0x80. Header blocks go as HPACK
// literals without indexing (no Huffman); of a response it decodes only :status, which H2O always
// encodes first and never with Huffman, and collects DATA and RST_STREAM per stream.
import net from 'node:net';

const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 };
const STATIC_STATUS = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };

function frame(type, flags, streamId, payload = Buffer.alloc(0)) {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(streamId, 5);
  return Buffer.concat([h, payload]);
}

function hpackInt(value, prefixBits, firstByte = 0) {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByte | value]);
  const out = [firstByte | max];
  for (value -= max; value >= 128; value >>= 7) out.push((value & 127) | 128);
  out.push(value);
  return Buffer.from(out);
}

// [[name, value], ...] as literal header fields without indexing, new names; values are latin1.
function headerBlock(fields) {
  const parts = [];
  for (const [name, value] of fields) {
    const n = Buffer.from(name, 'latin1'), v = Buffer.from(value, 'latin1');
    parts.push(Buffer.from([0]), hpackInt(n.length, 7), n, hpackInt(v.length, 7), v);
  }
  return Buffer.concat(parts);
}

function decodeStatus(block) {
  if (block[0] & 0x80) return STATIC_STATUS[block[0] & 0x7f];
  if (block[0] === 8 && block[1] === 3) return Number(block.subarray(2, 5).toString('latin1'));
  return undefined;
}

// Opens a connection. Resolves to { request(fields, body?) -> Promise<{status, body, rst}>, close() }.
export function h2connect(port, { host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host);
    let input = Buffer.alloc(0), nextId = 1;
    const streams = new Map();
    const finish = (id, extra) => {
      const s = streams.get(id);
      if (!s || s.done) return;
      s.done = true;
      s.resolve({ status: s.status, body: Buffer.concat(s.data).toString(), ...extra });
    };
    sock.on('data', (d) => {
      input = Buffer.concat([input, d]);
      while (input.length >= 9) {
        const len = input.readUIntBE(0, 3), type = input[3], flags = input[4], id = input.readUInt32BE(5) & 0x7fffffff;
        if (input.length < 9 + len) break;
        const payload = input.subarray(9, 9 + len);
        input = input.subarray(9 + len);
        const s = streams.get(id);
        if (type === FRAME.SETTINGS && !(flags & 1)) sock.write(frame(FRAME.SETTINGS, 1, 0));
        else if (type === FRAME.PING && !(flags & 1)) sock.write(frame(FRAME.PING, 1, 0, payload));
        else if (type === FRAME.HEADERS && s) {
          if (s.status === undefined) s.status = decodeStatus(payload);
          if (flags & 1) finish(id, {});
        } else if (type === FRAME.DATA && s) {
          s.data.push(Buffer.from(payload));
          if (len) sock.write(Buffer.concat([frame(FRAME.WINDOW_UPDATE, 0, 0, u32(len)), frame(FRAME.WINDOW_UPDATE, 0, id, u32(len))]));
          if (flags & 1) finish(id, {});
        } else if (type === FRAME.RST_STREAM) finish(id, { rst: payload.readUInt32BE(0) });
        else if (type === FRAME.GOAWAY) for (const k of streams.keys()) finish(k, { goaway: true });
      }
    });
    const fail = () => { for (const k of streams.keys()) finish(k, { closed: true }); };
    sock.on('close', fail);
    sock.on('error', fail);
    sock.on('connect', () => {
      sock.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), frame(FRAME.SETTINGS, 0, 0)]));
      resolve({
        socket: sock,
        request(fields, body = null) {
          const id = nextId;
          nextId += 2;
          const p = new Promise((res) => streams.set(id, { resolve: res, data: [], done: false }));
          const block = headerBlock(fields);
          sock.write(frame(FRAME.HEADERS, 4 | (body === null ? 1 : 0), id, block));
          if (body !== null) sock.write(frame(FRAME.DATA, 1, id, Buffer.from(body)));
          return p;
        },
        close() { sock.destroy(); },
      });
    });
    sock.once('error', reject);
  });
}

function u32(n) { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; }
