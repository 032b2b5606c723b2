/**
 * `deno task bench`: every kernel at the shapes the product uses, checked against the float64
 * TypeScript reference, then timed beside TensorFlow.js's WebGPU backend (same process, same
 * adapter, same inputs; the peer's output is compared with ours first), then the end-to-end
 * rows (generator, ProtoNet training and evaluation, GPU memory) and the targets.
 * "Reading the table" in `bench/README.md` explains the columns.
 */
import { parseArgs } from "node:util";
import { acquireGpu, type Gpu } from "../kernels/device.ts";
import { submit } from "../kernels/kernel.ts";
import { loadGenerator } from "../gan/weights.ts";
import { initTfjsPeer, type PeerOp, type TfjsPeer } from "./peer_tfjs.ts";
import { type BenchCase, PEER_TOLERANCE, relativeError } from "./_case.ts";
import { protonetCases } from "./_cases_protonet.ts";
import { ganCases } from "./_cases_gan.ts";
import { generatorRow, protonetRows, trainMemoryRow } from "./_end_to_end.ts";
import { dispatchRunner, type Repeated, timeInterleaved } from "./_timing.ts";
import {
  type BenchReport,
  endToEndLines,
  kernelHeader,
  kernelLine,
  type KernelResult,
  MEMORY_EPISODES,
  toJson,
} from "./_report.ts";

const QUICK_MEMORY_EPISODES = 5;
const USAGE = `usage: deno task bench [options]
  --runs N       timed samples per op after warm-up; median, min and max are shown (default 5)
  --only TEXT    only kernel rows whose "name shape" contains TEXT, and end-to-end rows
                 ("generator images/s", "train episodes/s", "eval images/s", "train memory")
                 whose name contains it
  --no-peer      skip the tfjs-webgpu peer
  --quick        smoke test: a few small kernel rows, a ${QUICK_MEMORY_EPISODES}-episode memory run
  --json         print one JSON object instead of the table (progress goes to stderr)
  --help         this text`;
const WEIGHTS = new URL("../models/stylegan2-celeba-64.safetensors", import.meta.url).pathname;

function _message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Checks one case (ours, then the peer against ours), then times both interleaved. */
async function runCase(
  gpu: Gpu,
  c: BenchCase,
  peer: TfjsPeer | undefined,
  runs: number,
): Promise<KernelResult> {
  const base = { name: c.name, shape: c.shape, work: c.work };
  const built = await c.build(gpu);
  let peerOp: PeerOp | undefined;
  try {
    let check: string;
    try {
      check = await built.check();
    } catch (e) {
      return { ...base, check: `FAIL ${_message(e)}`, peerCheck: "-" };
    }
    let peerCheck = "no peer";
    if (peer) {
      try {
        peerOp = built.peer(peer);
        submit(gpu, built.dispatches, "output"); // a check may have run a smaller copy
        const ours = await built.output();
        const rel = relativeError(await peerOp.check(), ours);
        peerCheck = `${rel <= PEER_TOLERANCE ? "ok" : "FAIL"} ${rel.toExponential(1)}`;
      } catch (e) {
        peerCheck = `FAIL ${_message(e)}`;
      }
      if (peerCheck.startsWith("FAIL")) {
        peerOp?.dispose();
        peerOp = undefined;
      }
    }
    const runners: Repeated[] = [dispatchRunner(gpu, built.dispatches)];
    const op = peerOp;
    if (op) runners.push((reps) => op.run(reps));
    const [ours, peerTiming] = await timeInterleaved(runners, runs);
    return { ...base, check, ours, peerCheck, peer: peerTiming };
  } finally {
    built.destroy();
    peerOp?.dispose();
  }
}

function _parse() {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "5" },
      only: { type: "string", default: "" },
      "no-peer": { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) {
    throw new RangeError(`--runs is ${values.runs}, expected an integer >= 1`);
  }
  return { ...values, runs };
}

async function main(): Promise<number> {
  let opts;
  try {
    opts = _parse();
  } catch (e) {
    console.error(`error: ${_message(e)}\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const out = opts.json ? console.error : console.log;
  const gpu = await acquireGpu();
  const adapter = `${gpu.description}${gpu.isFallback ? " (software fallback)" : ""}`;
  let peer: TfjsPeer | undefined;
  let peerInfo: BenchReport["peer"] = { reason: "--no-peer" };
  if (!opts["no-peer"]) {
    const init = await initTfjsPeer();
    peer = init.peer;
    peerInfo = init.peer ? { description: init.peer.description } : { reason: init.reason };
  }
  const weights = await loadGenerator(WEIGHTS);
  const wanted = (text: string) => text.includes(opts.only);
  const cases = [...ganCases(weights, opts.quick), ...protonetCases(opts.quick)]
    .filter((c) => wanted(`${c.name} ${c.shape}`));

  const peerText = "description" in peerInfo ? peerInfo.description : `none (${peerInfo.reason})`;
  out(`adapter: ${adapter}`);
  out(`peer: ${peerText}`);
  out(`median of ${opts.runs} samples after warm-up; ratio = peer ms / our ms\n`);
  out(kernelHeader());
  const report: BenchReport = {
    adapter,
    peer: peerInfo,
    runs: opts.runs,
    kernels: [],
    endToEnd: {},
  };
  let failures = 0;
  for (const c of cases) {
    const r = await runCase(gpu, c, peer, opts.runs);
    report.kernels.push(r);
    out(kernelLine(r));
    if (r.check.startsWith("FAIL")) failures++;
  }

  const e = report.endToEnd;
  if (wanted("generator images/s")) e.generator = await generatorRow(gpu, weights, opts.runs);
  if (wanted("train episodes/s") || wanted("eval images/s")) {
    const rows = await protonetRows(gpu, opts.runs);
    [e.train, e.eval] = [rows.train, rows.eval];
  }
  if (wanted("train memory")) {
    const episodes = opts.quick ? QUICK_MEMORY_EPISODES : MEMORY_EPISODES;
    e.memory = await trainMemoryRow(gpu, episodes);
  }
  out("");
  for (const line of endToEndLines(report)) out(line);
  if (opts.json) console.log(JSON.stringify(toJson(report), null, 2));
  return failures > 0 ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
