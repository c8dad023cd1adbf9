#!/usr/bin/env node
// ONNX Runtime baseline for featvis_bench_forward: forward throughput of the same ONNX
// file with onnxruntime-node (CPU execution provider), same thread count.
//
//   node bench/ort_forward.js --model M.onnx [--threads 2] [--min-time 1] [--repetitions 3]
//                             [--batches 1,8,32] [--dump-logits IN.f32 OUT.f32]
//   node bench/ort_forward.js --model M.onnx --input-file IMAGES.f32 --batch 16 [--threads 2]
//
// --input-file: one pass over real preprocessed photos ([N,3,224,224] float32, written
// by bench/preprocess_images.py), --batch at a time, read batch by batch so memory stays
// flat; reports images/s of that pass (the baseline of bench/examples_bench.sh).
//
// The model must accept the batch sizes asked for: a file that declares a fixed batch of
// 1 is rewritten first with a symbolic batch dim: run_forward_bench.sh does it with
// bench/onnx_symbolic_batch.py (see docs/PERFORMANCE.md).
//
// Session options: intraOpNumThreads = --threads, interOpNumThreads = 1, sequential
// execution, all graph optimizations (ORT's default). Every measurement: 2 warm-up runs,
// then --repetitions repetitions, each timing as many runs as fit in --min-time seconds
// (at least one); the median repetition is reported. Prints one JSON object on stdout.
//
// Install (inside bench/): npm ci --ignore-scripts
'use strict';

const fs = require('fs');
const path = require('path');

function parseArgs(argv) {
  const o = { threads: 2, minTime: 1.0, repetitions: 3, batches: [1, 8, 32], model: null, dump: null,
              inputFile: null, batch: 16 };
  for (let i = 2; i < argv.length; ++i) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--model') o.model = next();
    else if (a === '--threads') o.threads = parseInt(next(), 10);
    else if (a === '--min-time') o.minTime = parseFloat(next());
    else if (a === '--repetitions') o.repetitions = parseInt(next(), 10);
    else if (a === '--batches') o.batches = next().split(',').filter(Boolean).map(Number);
    else if (a === '--dump-logits') o.dump = [next(), next()];
    else if (a === '--input-file') o.inputFile = next();
    else if (a === '--batch') o.batch = parseInt(next(), 10);
    else throw new Error(`unknown argument '${a}'`);
  }
  if (!o.model) throw new Error('--model is required');
  if (!fs.existsSync(o.model)) throw new Error(`model file '${o.model}' does not exist`);
  if (!(o.threads >= 1)) throw new Error('--threads must be at least 1');
  return o;
}

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    throw new Error(`cannot load onnxruntime-node (${e.message.split('\n')[0]}); ` +
                    `run 'npm ci --ignore-scripts' in ${__dirname}`);
  }
}

// Deterministic input in [-1, 1] (the model's range); values need not match the other tools'.
function randomInput(n) {
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; ++i) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = (s / 4294967296) * 2 - 1;
  }
  return data;
}

async function timed(fn, batch, minTime, repetitions) {
  for (let i = 0; i < 2; ++i) await fn();
  const perIter = [];
  for (let r = 0; r < repetitions; ++r) {
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed;
    for (;;) {
      await fn();
      ++n;
      elapsed = Number(process.hrtime.bigint() - start) / 1e9;
      if (elapsed >= minTime) break;
    }
    perIter.push(elapsed / n);
  }
  const sorted = [...perIter].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const t = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { batch, seconds_per_iter: t, images_per_s: batch / t, ms_per_image: (1000 * t) / batch,
           repetitions: perIter };
}

async function main() {
  const opt = parseArgs(process.argv);
  const ort = loadOrt();
  const session = await ort.InferenceSession.create(opt.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: opt.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const chw = [3, 224, 224];
  const perImage = chw[0] * chw[1] * chw[2];

  if (opt.dump) {
    const buf = fs.readFileSync(opt.dump[0]);
    if (buf.length === 0 || buf.length % (perImage * 4) !== 0) {
      throw new Error(`'${opt.dump[0]}' is not a whole number of float32 input images`);
    }
    const batch = buf.length / (perImage * 4);
    const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
    const out = await session.run({ [inputName]: new ort.Tensor('float32', data, [batch, ...chw]) });
    const logits = out[outputName];
    fs.writeFileSync(opt.dump[1], Buffer.from(logits.data.buffer, logits.data.byteOffset, logits.data.byteLength));
    process.stderr.write(`ort: wrote logits [${logits.dims}] to ${opt.dump[1]}\n`);
    return;
  }

  if (opt.inputFile) {
    const bytesPerImage = perImage * 4;
    const total = fs.statSync(opt.inputFile).size / bytesPerImage;
    if (!Number.isInteger(total) || total === 0) throw new Error(`'${opt.inputFile}' is not a whole number of images`);
    const fd = fs.openSync(opt.inputFile, 'r');
    let runSeconds = 0;
    const start = process.hrtime.bigint();
    for (let begin = 0; begin < total; begin += opt.batch) {
      const n = Math.min(opt.batch, total - begin);
      const buf = Buffer.alloc(n * bytesPerImage);
      fs.readSync(fd, buf, 0, buf.length, begin * bytesPerImage);
      const data = new Float32Array(buf.buffer, buf.byteOffset, n * perImage);
      const t0 = process.hrtime.bigint();
      await session.run({ [inputName]: new ort.Tensor('float32', data, [n, ...chw]) });
      runSeconds += Number(process.hrtime.bigint() - t0) / 1e9;
    }
    const wall = Number(process.hrtime.bigint() - start) / 1e9;
    fs.closeSync(fd);
    process.stdout.write(JSON.stringify({ tool: 'onnxruntime-node', threads: opt.threads, batch: opt.batch,
                                          images: total, run_seconds: runSeconds, wall_seconds: wall,
                                          images_per_s: total / wall }, null, 2) + '\n');
    return;
  }

  const version = require(path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'package.json')).version;
  const report = { tool: 'onnxruntime-node', version, threads: opt.threads, model: opt.model, forward: [] };
  for (const batch of opt.batches) {
    const feeds = { [inputName]: new ort.Tensor('float32', randomInput(batch * perImage), [batch, ...chw]) };
    const r = await timed(() => session.run(feeds), batch, opt.minTime, opt.repetitions);
    report.forward.push(r);
    process.stderr.write(`ort forward batch ${batch}: ${r.images_per_s.toFixed(2)} img/s\n`);
  }
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(`ort_forward.js: error: ${e.message}\n`);
  process.exit(1);
});
