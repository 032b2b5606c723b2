/**
 * `deno task experiments`: the paper's experiments in one command — K_test and
 * K_train sweeps, samplers, identity style inputs, baselines (pixels,
 * random-init, supervised ProtoNet) and validation curves — on the same
 * seeded test episodes for every method, written up as OUT/report.md with
 * plots and OUT/results.json. Rerun with the same flags to resume.
 */
import { parseArgs } from "node:util";
import { pct, runMain } from "./_common.ts";
import {
  EXPERIMENT_OPTIONS,
  EXPERIMENT_USAGE,
  parseExperimentFlags,
} from "./_experiments_config.ts";
import { atShot } from "./_experiments_results.ts";
import { runExperiments } from "./_experiments_run.ts";

async function main(): Promise<void> {
  const { values } = parseArgs({ args: Deno.args, options: EXPERIMENT_OPTIONS, strict: true });
  if (values.help) {
    console.log(EXPERIMENT_USAGE);
    return;
  }
  const config = await parseExperimentFlags(values);
  const results = await runExperiments(config);

  const shots = results.evaluation.shots;
  const kTest = results.experiments.find((t) => t.id === "kTest")!;
  const samplers = results.experiments.find((t) => t.id === "samplers")!;
  const seeds = results.experiments.find((t) => t.id === "seeds")!;
  const repeats = seeds.rows.slice(1).map((row) => ({
    ...row,
    label: `style mixing, ${row.label}`,
  }));
  const rows = [kTest.rows[0], ...repeats, ...samplers.rows.slice(1), ...kTest.rows.slice(1)];
  console.log("");
  console.log(`${"method".padEnd(40)}${shots.map((k) => `K_test = ${k}`.padEnd(16)).join("")}`);
  for (const row of rows) {
    const cells = shots.map((k) => {
      const r = atShot(row, k);
      return (r ? pct(r.mean, r.ci95) : "—").padEnd(16);
    });
    console.log(`${row.label.slice(0, 39).padEnd(40)}${cells.join("")}`);
  }
  console.log("");
  console.log(`status       ${results.status}`);
  console.log(`wall time    ${(results.wallSeconds / 60).toFixed(1)} min`);
  console.log(`report       ${config.out}/report.md`);
  console.log(`results      ${config.out}/results.json`);
}

if (import.meta.main) runMain(main);
