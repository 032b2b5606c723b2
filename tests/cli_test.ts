/**
 * Command-line behaviour on bad input: one clear error line naming the flag or
 * file, a non-zero exit code, and no run directory left behind.
 */
import { assert } from "./_helpers.ts";
import { encodeSafeTensors, readSafeTensors } from "../data/safetensors.ts";
import { writePng } from "../data/png.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const GENERATOR = `${ROOT}models/stylegan2-celeba-64.safetensors`;

async function run(script: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-check", "--allow-read", "--allow-write", "--allow-env", script, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  });
  const out = await cmd.output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** A folder-per-identity set of `people` identities with `images` small PNGs each. */
async function makeFolders(people: number, images: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "facegen-cli-" });
  for (let p = 0; p < people; p++) {
    await Deno.mkdir(`${dir}/person${p}`);
    for (let i = 0; i < images; i++) {
      const px = new Uint8Array(16 * 16 * 3).fill((p * 40 + i * 7) % 256);
      await writePng(`${dir}/person${p}/${i}.png`, {
        width: 16,
        height: 16,
        channels: 3,
        pixels: px,
      });
    }
  }
  return dir;
}

async function expectFailure(
  script: string,
  args: string[],
  mentions: string[],
  outDir?: string,
): Promise<void> {
  const { code, stderr } = await run(script, args);
  assert.notStrictEqual(code, 0, `expected failure, got exit 0; stderr: ${stderr}`);
  const lines = stderr.trim().split("\n").filter((l) => l.startsWith("error:"));
  assert.strictEqual(lines.length, 1, `expected one error line, got: ${stderr}`);
  for (const m of mentions) assert.ok(lines[0].includes(m), `"${lines[0]}" should mention ${m}`);
  if (outDir) {
    const exists = await Deno.stat(outDir).then(() => true, () => false);
    assert.ok(!exists, `${outDir} must not be created on bad input`);
  }
}

const small = [
  "--way",
  "2",
  "--query",
  "2",
  "--val-shot",
  "1",
  "--test-shots",
  "1",
  "--val-fraction",
  "0.5",
];

Deno.test("train rejects a malformed number and names the flag", async () => {
  const out = `${await Deno.makeTempDir()}/run`;
  await expectFailure("cli/train.ts", ["--way", "five", "--out", out], ["--way", "five"], out);
});

Deno.test("train rejects a missing data directory and names it", async () => {
  const out = `${await Deno.makeTempDir()}/run`;
  await expectFailure("cli/train.ts", ["--data", "/no/such/dir", "--out", out], [
    "--data",
    "/no/such/dir",
  ], out);
});

Deno.test("train rejects an empty data directory", async () => {
  const empty = await Deno.makeTempDir();
  const out = `${await Deno.makeTempDir()}/run`;
  await expectFailure("cli/train.ts", ["--data", empty, "--out", out], [empty], out);
});

Deno.test("train rejects too few identities for the requested way", async () => {
  const data = await makeFolders(4, 4);
  const out = `${await Deno.makeTempDir()}/run`;
  await expectFailure("cli/train.ts", [...small, "--way", "3", "--data", data, "--out", out], [
    "--way 3",
  ], out);
});

Deno.test("train rejects pool members fewer than K + Q", async () => {
  await expectFailure("cli/train.ts", ["--pool-members", "3"], ["--pool-members"]);
});

Deno.test("train rejects a truncated generator file and names it", async () => {
  const data = await makeFolders(4, 4);
  const bad = await Deno.makeTempFile({ suffix: ".safetensors" });
  const bytes = await Deno.readFile(GENERATOR);
  await Deno.writeFile(bad, bytes.subarray(0, bytes.length >> 1));
  const out = `${await Deno.makeTempDir()}/run`;
  await expectFailure(
    "cli/train.ts",
    [...small, "--data", data, "--generator", bad, "--out", out],
    [bad, "truncated"],
    out,
  );
});

Deno.test("train rejects NaN generator weights and names the tensor", async () => {
  const data = await makeFolders(4, 4);
  const file = await readSafeTensors(GENERATOR);
  const tensors = new Map(
    [...file.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data.slice() }]),
  );
  (tensors.get("synthesis.b8.conv1.weight")!.data as Float32Array)[5] = NaN;
  const bad = await Deno.makeTempFile({ suffix: ".safetensors" });
  await Deno.writeFile(bad, encodeSafeTensors(tensors, file.metadata));
  const out = `${await Deno.makeTempDir()}/run`;
  await expectFailure(
    "cli/train.ts",
    [...small, "--data", data, "--generator", bad, "--out", out],
    ["synthesis.b8.conv1.weight"],
    out,
  );
});

Deno.test("train rejects an identity file that names a missing image", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/img_align_celeba`);
  await Deno.writeTextFile(`${dir}/identity_CelebA.txt`, "000001.jpg 1\n000002.jpg 1\n");
  await expectFailure("cli/train.ts", ["--data", dir], ["000001.jpg"]);
});

Deno.test("eval rejects a file that is not a checkpoint", async () => {
  const bad = await Deno.makeTempFile({ suffix: ".safetensors" });
  await Deno.writeTextFile(bad, "not a checkpoint at all");
  await expectFailure("cli/eval.ts", ["--checkpoint", bad], [bad]);
});

Deno.test("eval rejects an unknown baseline and names the flag", async () => {
  await expectFailure("cli/eval.ts", ["--baseline", "magic"], ["--baseline", "magic"]);
});

Deno.test("eval --json prints one object with the documented fields", async () => {
  const data = await makeFolders(6, 7);
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-check",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "cli/eval.ts",
      ...["--data", data, "--baseline", "pixels", "--way", "3", "--shot", "1,2"],
      ...["--query", "3", "--episodes", "20", "--image-size", "16", "--json"],
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  });
  const out = await cmd.output();
  assert.strictEqual(out.code, 0, new TextDecoder().decode(out.stderr));
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  assert.strictEqual(lines.length, 1, "exactly one line of JSON");
  const result = JSON.parse(lines[0]);
  assert.deepStrictEqual(Object.keys(result), [
    "data",
    "identities",
    "seed",
    "bn",
    "model",
    "results",
  ]);
  assert.strictEqual(result.identities, 6);
  assert.deepStrictEqual(result.results.map((r: { shot: number }) => r.shot), [1, 2]);
  for (const r of result.results) {
    assert.deepStrictEqual(Object.keys(r), ["way", "shot", "query", "episodes", "mean", "ci95"]);
    assert.ok(r.mean >= 0 && r.mean <= 1 && r.ci95 >= 0, JSON.stringify(r));
    assert.strictEqual(r.episodes, 20);
  }
});
