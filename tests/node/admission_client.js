// Node's ws (pinned in package-lock.json) against parley-host's admission rules. Usage:
// node admission_client.js PORT. /proto speaks graphql-transport-ws and chat.v1; server.origins
// allows http://localhost:*. Prints "node ws: all admission checks passed" and exits 0, or the
// failure and exits 1.
'use strict';
const WebSocket = require('ws');

const port = Number(process.argv[2]);
const base = `ws://127.0.0.1:${port}`;

function fail(message) {
  console.log('node ws: ' + message);
  process.exit(1);
}

function open(path, protocols, options) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base + path, protocols, Object.assign({ perMessageDeflate: false }, options));
    ws.on('open', () => resolve(ws));
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => reject(Object.assign(new Error(`status ${res.statusCode}: ${body.trim()}`), { status: res.statusCode, body })));
    });
    ws.on('error', reject);
  });
}

function roundTrip(ws, text) {
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => resolve(data.toString()));
    ws.once('error', reject);
    ws.send(text);
  });
}

async function main() {
  const ws = await open('/proto', ['mqtt', 'chat.v1'], { origin: 'http://localhost:5173' });
  if (ws.protocol !== 'chat.v1') fail(`selected ${JSON.stringify(ws.protocol)}, expected chat.v1`);
  if ((await roundTrip(ws, 'node on chat.v1')) !== 'node on chat.v1') fail('echo on chat.v1');
  ws.close(1000);
  try {
    await open('/proto', ['mqtt'], {});
    fail('an unknown subprotocol was accepted');
  } catch (e) {
    if (e.status !== 400 || !e.body.includes('/proto speaks graphql-transport-ws, chat.v1')) fail('unknown subprotocol: ' + e.message);
  }
  try {
    await open('/proto', ['chat.v1'], { origin: 'https://evil.example' });
    fail('a foreign origin was accepted');
  } catch (e) {
    if (e.status !== 403 || !e.body.includes('origin https://evil.example is not allowed')) fail('foreign origin: ' + e.message);
  }
  console.log('node ws: all admission checks passed');
}

main().catch((e) => fail(e.stack || String(e)));
