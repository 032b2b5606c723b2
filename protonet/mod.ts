/**
 * ProtoNet package: the Conv-4 embedding network with its training step, and the Adam
 * optimiser.
 */
export { Conv4, type Conv4Options, type StepResult } from "./conv4.ts";
export { Conv4Block } from "./conv4_block.ts";
export { Adam, ADAM_DEFAULTS, type ParamSlot } from "./adam.ts";
export type { EpisodeShape } from "../kernels/proto_loss.ts";
export * from "./evaluate.ts";
export * from "./real_eval.ts";
export * from "./checkpoint.ts";
export * from "./train_loop.ts";
export { CONV4_WIDTH, embedderOf, parameterShape, ProtoNetSession } from "./session.ts";
export * from "./paired_test.ts";
export { RealEpisodes } from "./real_episodes.ts";
