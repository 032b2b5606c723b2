/**
 * `deno task train`: meta-train a Conv-4 ProtoNet on StyleGAN2-synthesised
 * face tasks, validate on real identities with early stopping, then test the
 * best checkpoint next to the random-init and pixel baselines. The work is
 * done by `runTraining` (cli/_run_training.ts), which the experiments share.
 */
import { parseArgs } from "node:util";
import { runMain } from "./_common.ts";
import { runTraining } from "./_run_training.ts";
import { parseTrainFlags, TRAIN_OPTIONS, TRAIN_USAGE } from "./_train_config.ts";

async function main(): Promise<void> {
  const { values } = parseArgs({ args: Deno.args, options: TRAIN_OPTIONS, strict: true });
  if (values.help) {
    console.log(TRAIN_USAGE);
    return;
  }
  const config = await parseTrainFlags(values);
  await runTraining(config);
}

if (import.meta.main) runMain(main);
