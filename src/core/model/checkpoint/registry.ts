/**
 * @file model_type → the architecture file that builds it. Adding a family: write architectures/<family>.ts over
 * blocks.ts and decoder.ts, list it here, and add a fixture to test/fixtures/checkpoints.
 */
import { ModelLoadError } from '../errors';
import type { Architecture } from './architecture';
import { gemma } from './architectures/gemma';
import { gpt2 } from './architectures/gpt2';
import { gptNeox } from './architectures/gptNeox';
import { llama } from './architectures/llama';
import { olmo2 } from './architectures/olmo2';
import { phi3 } from './architectures/phi3';
import { qwen } from './architectures/qwen';
import { stablelm } from './architectures/stablelm';

const ARCHITECTURES: readonly Architecture[] = [gpt2, gptNeox, llama, qwen, gemma, phi3, olmo2, stablelm];

export const SUPPORTED_MODEL_TYPES: readonly string[] = ARCHITECTURES.flatMap((architecture) => architecture.modelTypes);

export function architectureFor(modelType: string | undefined, configFile: string): Architecture {
  const found = ARCHITECTURES.find((architecture) => modelType !== undefined && architecture.modelTypes.includes(modelType));
  if (!found) {
    throw new ModelLoadError(
      modelType === undefined ? `${configFile} has no model_type.` : `model_type "${modelType}" (${configFile}) is not supported for safetensors checkpoints.`,
      [`Supported: ${SUPPORTED_MODEL_TYPES.join(', ')}. An ONNX export of the model (onnx/model.onnx) may work instead.`]);
  }
  return found;
}
