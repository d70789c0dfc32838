// sharp's best pipeline for the bench, one job per process (bench/measure.py starts it).
//
// argv[2] is a JSON job: {mode: "time"|"rss", image, out, reps, sizes: [{width, height, fit,
// format, quality}]}. It prints one JSON line with the fields bench/measure.py's own Python
// worker prints. Pipeline: decode once with shrink-on-load and auto-orient to the largest size,
// then each smaller size from the previous output's pixels; encode each (JPEG: quality,
// 4:2:0, baseline, optimised Huffman tables, which are sharp's defaults; WebP: quality,
// effort 4, lossless alpha); metadata is stripped, as sharp does by default. CPU is
// process.cpuUsage() (every thread of the process), like Python's process_time().
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";

sharp.cache(false); // libvips' operation cache would let a repeated run reuse earlier pixels

function largestFirst(sizes) {
  return sizes.map((_, i) => i).sort((a, b) => sizes[b].width * sizes[b].height - sizes[a].width * sizes[a].height);
}

async function render(data, sizes) {
  const out = new Array(sizes.length);
  let prev = null;
  for (const i of largestFirst(sizes)) {
    const spec = sizes[i];
    const source = prev === null ? sharp(data).rotate() : sharp(prev.data, { raw: prev.raw });
    const resized = await source
      .resize(spec.width, spec.height, { fit: spec.fit === "cover" ? "cover" : "inside", withoutEnlargement: true })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const { info } = resized;
    // Raw pixels out of sharp are unpremultiplied; info.premultiplied only says premultiplication
    // was used while resizing, and passing it back in would unpremultiply a second time.
    const raw = { width: info.width, height: info.height, channels: info.channels };
    const alpha = info.channels === 2 || info.channels === 4;
    const format = spec.format === "auto" ? (alpha ? "webp" : "jpeg") : spec.format;
    const encoder = sharp(resized.data, { raw });
    const body =
      format === "jpeg"
        ? await encoder.jpeg({ quality: spec.quality, chromaSubsampling: "4:2:0", optimiseCoding: true }).toBuffer()
        : await encoder.webp({ quality: spec.quality, effort: 4, alphaQuality: 100 }).toBuffer();
    out[i] = { width: info.width, height: info.height, format, body };
    prev = { data: resized.data, raw };
  }
  return out;
}

function peakMb() {
  // VmHWM, as the Python worker reads it: on Linux ru_maxrss (resourceUsage) keeps the parent's
  // peak across fork and exec, so a child of a big bench process would report the parent's.
  try {
    const line = readFileSync("/proc/self/status", "utf8").split("\n").find((l) => l.startsWith("VmHWM:"));
    if (line) return Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    // not Linux: fall back to resourceUsage
  }
  return process.resourceUsage().maxRSS / 1024; // kilobytes
}

function cpuMs(since) {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

async function main() {
  const job = JSON.parse(process.argv[2]);
  const data = readFileSync(job.image);
  const baseline = peakMb();
  await render(data, job.sizes); // warm-up: first-call costs are not the work
  const peak = peakMb();
  if (job.mode === "rss") {
    return { baseline_mb: baseline, peak_mb: peak };
  }
  const cpu = [];
  const wall = [];
  let outputs = [];
  for (let r = 0; r < job.reps; r++) {
    const c0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    outputs = await render(data, job.sizes);
    wall.push(Number(process.hrtime.bigint() - w0) / 1e6);
    cpu.push(cpuMs(c0));
  }
  mkdirSync(job.out, { recursive: true });
  const files = outputs.map((made, i) => {
    const path = join(job.out, `${i}-${made.width}x${made.height}.${made.format}`);
    writeFileSync(path, made.body);
    return { path, width: made.width, height: made.height, format: made.format, bytes: made.body.length };
  });
  return {
    reps: job.reps,
    cpu_ms_all: cpu,
    wall_ms_all: wall,
    baseline_mb: baseline,
    peak_mb: peak,
    outputs: files,
    versions: { sharp: sharp.versions.sharp, libvips: sharp.versions.vips, concurrency: sharp.concurrency() },
  };
}

main().then(
  (result) => process.stdout.write(JSON.stringify(result) + "\n"),
  (error) => {
    process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
    process.exit(1);
  },
);
