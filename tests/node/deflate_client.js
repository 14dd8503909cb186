// Node's ws (pinned in package-lock.json) with perMessageDeflate against parley-host's
// permessage-deflate. Usage: node deflate_client.js PORT ADMIN_PORT CASE [COUNT]. /echo-deflate
// is echo with deflate on; replies below 64 bytes go plain (engine.deflate.min_size).
//   default      host defaults, ws {threshold: 0}
//                -> permessage-deflate; server_no_context_takeover; client_max_window_bits=15
//   takeover     host server_no_context_takeover = false, ws {threshold: 0}: both keep a window
//                -> permessage-deflate; client_max_window_bits=15
//   no-takeover  the same host, ws {clientNoContextTakeover, serverNoContextTakeover}
//                -> permessage-deflate; server_no_context_takeover; client_no_context_takeover;
//                   client_max_window_bits=15
// Exchanges COUNT (10,000) messages of deflate_messages.js pipelined in batches, checks each reply,
// the 101's Sec-WebSocket-Extensions and ws.extensions, and that the host's /metrics grew by
// exactly the compressed messages both ways; then sends one JSON message and 50 copies of it and
// reads on the counters whether each side kept its window (a kept window compresses a copy to a
// fraction of the first; a reset one to exactly the same size). Prints
// "node ws: all deflate checks passed" and exits 0, or the failures and exits 1.
'use strict';
const http = require('http');
const WebSocket = require('ws');
const {messages, byteLength, expectedCounts, jsonText, generator} = require('./deflate_messages.js');

const port = Number(process.argv[2]);
const adminPort = Number(process.argv[3]);
const mode = process.argv[4];
const count = Number(process.argv[5] || 10000);
const BATCH = 100;
let failures = 0;

const CASES = {
  'default': {options: {threshold: 0},
    answer: 'permessage-deflate; server_no_context_takeover; client_max_window_bits=15', server: false, client: true},
  'takeover': {options: {threshold: 0}, answer: 'permessage-deflate; client_max_window_bits=15', server: true, client: true},
  'no-takeover': {options: {threshold: 0, clientNoContextTakeover: true, serverNoContextTakeover: true},
    answer: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=15',
    server: false, client: false},
};

function check(name, ok, detail) {
  console.log((ok ? 'ok   ' : 'FAIL ') + name + (ok ? '' : ': ' + detail));
  if (!ok) ++failures;
  return ok;
}

const COUNTERS = ['deflate_messages_out', 'deflate_payload_bytes_out', 'deflate_wire_bytes_out', 'inflate_messages_in',
  'inflate_wire_bytes_in', 'inflate_payload_bytes_in', 'messages_in'];
// The host's Prometheus series behind each of COUNTERS (summed over their labels: routes).
const SERIES = {
  deflate_messages_out: 'parley_deflate_messages_total', deflate_payload_bytes_out: 'parley_deflate_payload_bytes_total',
  deflate_wire_bytes_out: 'parley_deflate_wire_bytes_total', inflate_messages_in: 'parley_inflate_messages_total',
  inflate_wire_bytes_in: 'parley_inflate_wire_bytes_total', inflate_payload_bytes_in: 'parley_inflate_payload_bytes_total',
  messages_in: 'parley_messages_received_total'};

function metrics() {
  return new Promise((resolve, reject) => {
    // A fresh connection per scrape: Node 19+ keeps connections alive by default, and reusing one
    // just as the admin port closes it (keep-alive timeout 5 s) ends in "socket hang up".
    http.get({host: '127.0.0.1', port: adminPort, path: '/metrics', agent: false}, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        const values = {};
        for (const name of COUNTERS) values[name] = 0;
        const seen = new Set();
        for (const line of body.split('\n')) {
          if (line === '' || line.startsWith('#')) continue;
          const at = line.lastIndexOf(' ');
          const series = line.slice(0, at).split('{')[0];
          const name = Object.keys(SERIES).find((k) => SERIES[k] === series);
          if (name) {
            values[name] += Number(line.slice(at + 1));
            seen.add(name);
          }
        }
        if (seen.size !== COUNTERS.length) reject(new Error('/metrics lacks some of ' + COUNTERS.join(', ')));
        else resolve(values);
      });
    }).on('error', reject);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// The counters' growth since `before`, once `done(delta)` holds (they are published at the end
/// of a loop turn) or after 10 s.
async function growth(before, done) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const now = await metrics();
    const delta = {};
    for (const k of COUNTERS) delta[k] = now[k] - before[k];
    if (done(delta) || Date.now() > deadline) return delta;
    await sleep(50);
  }
}

function open(options) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/echo-deflate`, {perMessageDeflate: options, maxPayload: 4 << 20});
    let header;
    ws.on('upgrade', (res) => (header = res.headers['sec-websocket-extensions']));
    ws.on('open', () => resolve({ws, header}));
    ws.on('error', reject);
  });
}

/// Sends `msgs` in batches of BATCH; resolves with the replies ({data, isBinary}).
function exchange(ws, msgs) {
  return new Promise((resolve, reject) => {
    const replies = [];
    let sent = 0;
    const sendBatch = () => {
      const end = Math.min(sent + BATCH, msgs.length);
      for (; sent < end; ++sent) ws.send(msgs[sent].data);
    };
    const onMessage = (data, isBinary) => {
      replies.push({data, isBinary});
      if (replies.length === msgs.length) {
        ws.off('message', onMessage);
        resolve(replies);
      } else if (replies.length === sent) {
        sendBatch();
      }
    };
    ws.on('message', onMessage);
    ws.once('close', (code) => reject(new Error(`closed ${code} after ${replies.length} replies`)));
    sendBatch();
  });
}

function same(message, reply) {
  if (typeof message === 'string') return !reply.isBinary && reply.data.toString() === message;
  return reply.isBinary && Buffer.from(message).equals(reply.data);
}

async function main() {
  const c = CASES[mode];
  if (!c) {
    check('known case', false, mode);
    return;
  }
  const msgs = messages(11, count);
  const before = await metrics();
  const {ws, header} = await open(c.options);
  check(`${mode}: permessage-deflate agreed as "${c.answer}"`, header === c.answer, JSON.stringify(header));
  check(`${mode}: ws.extensions names it`, ws.extensions === 'permessage-deflate', JSON.stringify(ws.extensions));
  const started = Date.now();
  const replies = await exchange(ws, msgs);
  console.log(`     ${mode}: ${msgs.length} messages in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const bad = [];
  msgs.forEach((m, i) => {
    if (!same(m.data, replies[i])) bad.push(i);
  });
  check(`${mode}: ${msgs.length} replies, each equal to its message`, replies.length === msgs.length && bad.length === 0,
    `${bad.length} differ, first #${bad[0]} (${bad.length ? msgs[bad[0]].label + ', ' + byteLength(msgs[bad[0]].data) + ' bytes' : ''})`);

  const expected = expectedCounts(msgs);
  const delta = await growth(before, (d) => Object.keys(expected).every((k) => d[k] === expected[k]));
  const exact = Object.keys(expected).every((k) => delta[k] === expected[k]);
  check(`${mode}: /metrics: ${expected.inflate_messages_in} messages inflated, ${expected.deflate_messages_out} replies ` +
    `of 64 bytes or more deflated, payload bytes exact`, exact, `grew ${JSON.stringify(delta)}, expected ${JSON.stringify(expected)}`);
  check(`${mode}: smaller on the wire both ways`, delta.deflate_wire_bytes_out < delta.deflate_payload_bytes_out &&
    delta.inflate_wire_bytes_in < delta.inflate_payload_bytes_in, JSON.stringify(delta));
  console.log(`     ${mode}: out ${delta.deflate_payload_bytes_out} -> ${delta.deflate_wire_bytes_out} bytes, ` +
    `in ${delta.inflate_wire_bytes_in} -> ${delta.inflate_payload_bytes_in} bytes`);

  // Context takeover on the counters: one fresh JSON message, then 50 copies of it.
  const text = jsonText(generator(99), 1024);
  const one = await metrics();
  await exchange(ws, [{data: text}]);
  const first = await growth(one, (d) => d.deflate_messages_out === 1 && d.inflate_messages_in === 1);
  const copies = await metrics();
  await exchange(ws, Array.from({length: 50}, () => ({data: text})));
  const rest = await growth(copies, (d) => d.deflate_messages_out === 50 && d.inflate_messages_in === 50);
  const out = rest.deflate_wire_bytes_out / 50, inn = rest.inflate_wire_bytes_in / 50;
  console.log(`     ${mode}: a copy of a ${byteLength(text)}-byte message: out ${first.deflate_wire_bytes_out} then ` +
    `${out} bytes, in ${first.inflate_wire_bytes_in} then ${inn} bytes`);
  if (c.server)
    check(`${mode}: the host kept its window (copies under half the first)`, out * 2 < first.deflate_wire_bytes_out, `${out}`);
  else
    check(`${mode}: the host reset its window (copies as big as the first)`, out === first.deflate_wire_bytes_out, `${out}`);
  if (c.client)
    check(`${mode}: ws kept its window and the host inflated from it (copies under half the first)`,
      inn * 2 < first.inflate_wire_bytes_in, `${inn}`);
  else
    check(`${mode}: ws reset its window (copies as big as the first)`, inn === first.inflate_wire_bytes_in, `${inn}`);

  await new Promise((resolve) => {
    ws.once('close', (code) => {
      check(`${mode}: closed 1000`, code === 1000, String(code));
      resolve();
    });
    ws.close(1000, 'done');
  });
}

main()
  .catch((e) => check('no error', false, e.stack || String(e)))
  .finally(() => {
    console.log(failures ? `node ws: ${failures} check(s) failed` : 'node ws: all deflate checks passed');
    process.exit(failures ? 1 : 0);
  });
