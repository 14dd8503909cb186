// The messages the permessage-deflate client tests send, for Node (require) and for a browser page
// (the driver inlines this file; it defines deflateMessages). messages(seed, count) returns
// `count` {label, data} pairs, the same for the same seed: JSON-like text around 1 KiB (with
// non-ASCII), exact repeats of it, small text and binary below min_size (64 bytes), random and
// patterned binary, 100 KiB+ messages (JSON, random, patterned) and the 63/64-byte edge; data is
// a string (text) or a Uint8Array (binary).
'use strict';
(function (root) {
  const MIN_SIZE = 64;
  const WORDS = ['parley', 'deflate', 'window', 'context', 'takeover', 'message', 'route', 'echo', 'frame',
    'loop', 'zlib', 'café', 'naïve', 'Zürich', '日本語', '🎉', 'ünïcödé', 'compression', 'ratio'];
  const NAMES = ['ada', 'grace', 'linus', 'ken', 'dennis', 'barbara', 'edsger', 'margaret', 'донна', '李'];
  const TAGS = ['alpha', 'beta', 'gamma', 'delta', 'omega', 'prod', 'dev', 'eu', 'us', 'ap'];
  const encoder = new TextEncoder();

  /// mulberry32: a small seeded generator, uniform in [0, 1).
  function generator(seed) {
    let a = seed >>> 0;
    const next = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return {
      random: next,
      range: (lo, hi) => lo + Math.floor(next() * (hi - lo)),
      choice: (list) => list[Math.floor(next() * list.length)],
      bytes(n) {
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i += 4) {
          const v = Math.floor(next() * 4294967296);
          for (let k = 0; k < 4 && i + k < n; ++k) out[i + k] = (v >>> (8 * k)) & 0xff;
        }
        return out;
      },
    };
  }

  function words(rng, n) {
    const out = [];
    for (let i = 0; i < n; ++i) out.push(rng.choice(WORDS));
    return out.join(' ');
  }

  function record(rng) {
    return {id: rng.range(0, 1000000), user: rng.choice(NAMES), text: words(rng, rng.range(3, 9)),
      score: Math.round(rng.random() * 100000) / 1000, tags: [rng.choice(TAGS), rng.choice(TAGS)], ok: rng.random() < 0.5};
  }

  /// A JSON document of at least `size` UTF-8 bytes.
  function jsonText(rng, size) {
    const parts = [];
    let total = 0;
    while (total < size) {
      const s = JSON.stringify(record(rng));
      parts.push(s);
      total += encoder.encode(s).length + 1;
    }
    return '{"kind":"batch","records":[' + parts.join(',') + ']}';
  }

  /// Compressible binary: little-endian records with small, repetitive fields.
  function patternBytes(rng, size) {
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    const base = rng.range(0, 1 << 20);
    for (let i = 0; 8 * i + 8 <= size; ++i) {
      view.setUint32(8 * i, base + i, true);
      view.setInt16(8 * i + 4, rng.range(-40, 40), true);
      out[8 * i + 6] = i & 3;
      out[8 * i + 7] = 7;
    }
    return out;
  }

  function byteLength(data) {
    return typeof data === 'string' ? encoder.encode(data).length : data.length;
  }

  function messages(seed, count) {
    const rng = generator(seed);
    const out = [];
    const push = (label, data) => out.push({label, data});
    while (out.length < count) {
      const i = out.length;
      if (i % 100 === 37) {
        const k = Math.floor(i / 100) % 3;
        if (k === 0) push('large-json', jsonText(rng, rng.range(100 << 10, 200 << 10)));
        else if (k === 1) push('large-random', rng.bytes(rng.range(100 << 10, 160 << 10)));
        else push('large-pattern', patternBytes(rng, rng.range(100 << 10, 300 << 10)));
        continue;
      }
      const edge = i % 250;
      if (edge === 1) push('edge', 'é'.repeat(31) + 'a');     // 63 bytes: plain
      else if (edge === 2) push('edge', 'é'.repeat(32));      // 64 bytes: compressed
      else if (edge === 3) push('edge', rng.bytes(MIN_SIZE - 1));
      else if (edge === 4) push('edge', rng.bytes(MIN_SIZE));
      else if (edge === 5) push('edge', Math.floor(i / 250) % 2 === 0 ? '' : new Uint8Array(0));
      else {
        const r = rng.random();
        if (r < 0.45) {
          const text = jsonText(rng, rng.range(700, 1300));
          push('json', text);
          if (rng.random() < 0.25 && out.length < count && out.length % 100 !== 37) push('repeat', text);
        } else if (r < 0.70) {
          // By code points: a cut inside a surrogate pair would not survive UTF-8.
          push('small', Array.from(words(rng, rng.range(0, 40))).slice(0, MIN_SIZE / 4).join(''));
        } else if (r < 0.80) {
          push('small', rng.bytes(rng.range(0, MIN_SIZE)));
        } else if (r < 0.90) {
          push('random', rng.bytes(rng.range(MIN_SIZE, 4096)));
        } else if (r < 0.97) {
          push('pattern', patternBytes(rng, rng.range(MIN_SIZE, 8192)));
        } else {
          const block = rng.bytes(2000);
          const far = new Uint8Array(4000);
          far.set(block, 0);
          far.set(block, 2000);
          push('far', far);
        }
      }
    }
    return out;
  }

  /// What the host's counters must grow by when these messages go compressed (every one: the
  /// clients compress everything) and come back compressed from min_size bytes up.
  function expectedCounts(msgs) {
    let outMessages = 0, outBytes = 0, inBytes = 0;
    for (const m of msgs) {
      const n = byteLength(m.data);
      inBytes += n;
      if (n >= MIN_SIZE) {
        ++outMessages;
        outBytes += n;
      }
    }
    return {deflate_messages_out: outMessages, deflate_payload_bytes_out: outBytes,
      inflate_messages_in: msgs.length, inflate_payload_bytes_in: inBytes, messages_in: msgs.length};
  }

  const api = {MIN_SIZE, messages, byteLength, expectedCounts, jsonText, generator};
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
  else root.deflateMessages = api;
})(typeof globalThis !== 'undefined' ? globalThis : this);
