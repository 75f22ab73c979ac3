/**
 * Worker thread for validating large dataset files (bundled to out/datasetWorker.js). Parsing a 28k-row CSV takes
 * a second or more; on the extension host's thread that would freeze every extension while typing.
 * In: { id, text, file }. Out: { id, problems } with the parser's problems (the entities stay here).
 */
import { parentPort } from 'node:worker_threads';
import { parseDatasetText } from '../../core/datasets/parse';
import type { WorkerReply } from '../../core/util/requestWorker';
import type { DatasetValidationReply, DatasetValidationRequest } from './datasetValidator';

const port = parentPort;
if (!port) throw new Error('datasetWorker must run in a worker thread');

port.on('message', (request: DatasetValidationRequest & { id: number }) => {
  try {
    const result = parseDatasetText(request.text, request.file);
    port.postMessage({ id: request.id, problems: result.ok ? result.dataset.problems : result.problems } satisfies DatasetValidationReply);
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
  }
});
