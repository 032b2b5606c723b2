/**
 * `bench/main.ts --quick --no-peer --runs 1 --json` runs as a subprocess and prints one JSON
 * object of the documented structure. Functional only: no timing is asserted.
 */
import { assert, gpuAvailable } from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;

const KERNEL_NAMES = [
  "matmul",
  "conv_fwd",
  "conv_bwd_data",
  "conv_bwd_weight",
  "modconv",
  "modconv_up",
  "mapping",
  "batchnorm",
  "maxpool",
  "proto_loss",
];

/** The rows `--quick` promises, as "name shape". */
const QUICK_ROWS = [
  "mapping [256, 128] x 4 layers",
  "conv_fwd [30, 64, 8, 8] -> 64",
  "maxpool [30, 64, 8, 8]",
  "proto_loss 5-way 1-shot 5-query, D 1024",
];

function assertPositive(value: unknown, what: string): void {
  assert.ok(
    typeof value === "number" && Number.isFinite(value) && value > 0,
    `${what} is ${value}, expected a positive finite number`,
  );
}

Deno.test({
  name: "bench --quick --json prints one object with a row per case and positive figures",
  ignore: !gpuAvailable,
  async fn() {
    const cmd = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "bench/main.ts",
        "--quick",
        "--no-peer",
        "--runs",
        "1",
        "--json",
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    });
    const out = await cmd.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.strictEqual(out.code, 0, `bench exited ${out.code}; stderr:\n${stderr}`);
    const report = JSON.parse(new TextDecoder().decode(out.stdout));

    assert.ok(typeof report.adapter === "string" && report.adapter.length > 0, "adapter");
    assert.strictEqual(report.peer, null, "--no-peer leaves peer null");
    assert.ok(Array.isArray(report.kernels), "kernels is an array");
    const rows = report.kernels.map((k: { name: string; shape: string }) => `${k.name} ${k.shape}`);
    assert.deepStrictEqual(rows, QUICK_ROWS, "one entry per quick case");
    for (const k of report.kernels) {
      const what = `${k.name} ${k.shape}`;
      for (const key of ["name", "shape", "ms", "gflops", "peer_ms", "ratio"]) {
        assert.ok(key in k, `${what}: key ${key} missing`);
      }
      assert.ok(KERNEL_NAMES.includes(k.name), `${what}: unknown kernel name`);
      assertPositive(k.ms, `${what} ms`);
      assertPositive(k.ms_min, `${what} ms_min`);
      assertPositive(k.ms_max, `${what} ms_max`);
      // Compute-bound rows give GFLOP/s, memory-bound ones GB/s.
      if (k.gflops === null) assertPositive(k.gbps, `${what} gbps`);
      else assertPositive(k.gflops, `${what} gflops`);
      assert.strictEqual(k.peer_ms, null, `${what}: no peer ms without a peer`);
      assert.strictEqual(k.ratio, null, `${what}: no ratio without a peer`);
    }

    const e = report.end_to_end;
    for (
      const key of [
        "generator_images_per_s",
        "train_episodes_per_s",
        "eval_images_per_s",
        "peak_gpu_bytes",
      ]
    ) {
      assertPositive(e[key], `end_to_end.${key}`);
    }
    const m = e.train_memory;
    assertPositive(m.episodes, "train_memory.episodes");
    assertPositive(m.live_bytes_after_first, "train_memory.live_bytes_after_first");
    assertPositive(m.live_bytes_after_last, "train_memory.live_bytes_after_last");
    assert.ok(Array.isArray(report.targets) && report.targets.length > 0, "targets listed");
  },
});
