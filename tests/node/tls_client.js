// Node's ws (from npm, pinned in package-lock.json) against parley-host over wss://, trusting the
// test CA. Usage: node tls_client.js PORT CA_FILE [COUNT]. Sends COUNT text messages to /echo one
// after another and COUNT to /ws (random-suffix replies), checks each reply, closes with 1000.
// Prints "node ws: all tls checks passed" and exits 0, or prints the failure and exits 1.
'use strict';
const fs = require('fs');
const WebSocket = require('ws');

const port = Number(process.argv[2]);
const ca = fs.readFileSync(process.argv[3]);
const count = Number(process.argv[4] || 500);

function fail(message) {
  console.log('node ws: ' + message);
  process.exit(1);
}

function run(path, check) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, { ca, perMessageDeflate: false });
    let i = 0;
    const next = () => ws.send(`node ${path} ${i}`);
    ws.on('open', next);
    ws.on('message', (data, isBinary) => {
      const text = data.toString();
      if (isBinary || !check(text, `node ${path} ${i}`)) return reject(new Error(`${path} message ${i}: got ${JSON.stringify(text)}`));
      if (++i === count) ws.close(1000, 'done');
      else next();
    });
    ws.on('close', (code) => (code === 1000 && i === count ? resolve() : reject(new Error(`${path}: closed ${code} after ${i}`))));
    ws.on('error', reject);
  });
}

(async () => {
  try {
    await run('/echo', (reply, sent) => reply === sent);
    await run('/ws', (reply, sent) => new RegExp('^' + sent + ' (0|[1-9][0-9]{0,5})$').test(reply));
  } catch (e) {
    fail(e.message);
  }
  console.log(`node ws: ${2 * count} messages verified over wss`);
  console.log('node ws: all tls checks passed');
})();
