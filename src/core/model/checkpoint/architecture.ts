/**
 * @file The contract between the checkpoint loader and one architecture family's file (architectures/*.ts).
 *
 * A family reads config.json (with transformers' defaults for its model_type), checks every weight's shape, and
 * writes the forward pass up to the deepest block asked for, returning the residual stream at every block
 * boundary: [0] = embedding output (with any embedding scaling), [i] = output of block i. Nothing after the last
 * block (final norm, LM head) is built.
 */
import type { Graph, Weights } from './blocks';
import type { ConfigReader } from './config';

export interface ArchitectureDims {
  readonly numBlocks: number;
  readonly hiddenSize: number;
  readonly vocabSize: number;
  /** Longest prompt in tokens: learned positions, or the RoPE setting's limit; undefined when unbounded. */
  readonly maxPositions?: number;
}

export interface BuildRequest {
  readonly config: ConfigReader;
  readonly graph: Graph;
  readonly weights: Weights;
  /** Build blocks 1…blocks only (≤ numBlocks). */
  readonly blocks: number;
}

export interface Architecture {
  /** config.json model_type values this file implements. */
  readonly modelTypes: readonly string[];
  dims(config: ConfigReader): ArchitectureDims;
  /** The boundary tensors [N, hidden], blocks + 1 of them. */
  build(request: BuildRequest): string[];
}
