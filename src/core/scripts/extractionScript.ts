/**
 * @file `spacetime-probe script`: a readable Python extraction script for the engines researchers run on GPU
 * clusters — Hugging Face transformers + accelerate (`device_map="auto"` across GPUs), nnsight (locally or on NDIF
 * with `remote=True`) and TransformerLens — that writes an activation folder in our format (docs/activations.md).
 *
 * The bundle is three files: `extract_activations.py`, `requirements.txt` (pinned minimums) and `prompts.jsonl`
 * (one line per dataset row: its line number, the rendered prompt and, for entity-last, the prompt cut right after
 * the entity). The script checks prompts.jsonl against the SHA-256 it was generated with, so a stale or edited file
 * is refused. It mirrors our own extraction (src/core/activations/extract.ts, src/core/model/tokenizer.ts):
 *   - the model's tokenizer.json read by `tokenizers`, BOS from the post-processor, else prepended when
 *     tokenizer_config.json says add_bos_token and the post-processor does not add it;
 *   - the entity-last read index from re-tokenizing the prompt cut after the entity (same prefix / parting rule);
 *   - rows the tokenizer cannot use are skipped and listed in the manifest, exactly as `extract` does;
 *   - right-padded batches, longest first; layer 0 = the input of block 0 (embeddings), layer i = the output of
 *     block i = the input of block i+1, the last = the input of the final norm (a forward pre-hook: HF's last
 *     hidden_states entry is after the norm);
 *   - manifest.json with the same fields (rows, promptsSha256, token, skipped) so `probe` accepts the folder.
 * It streams: rows are processed in chunks sized to a memory budget, each chunk written into every layer's
 * memory-mapped .npy and recorded in a progress file, so a crashed run resumes at the first unfinished chunk.
 *
 * This module only builds text; it knows nothing of VS Code or of the file system beyond writeExtractionBundle.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TokenChoice } from '../model/types';
import { writeFileAtomicSync } from '../util/atomicWrite';

export const SCRIPT_ENGINES = ['hf', 'nnsight', 'transformer-lens'] as const;
export type ScriptEngine = (typeof SCRIPT_ENGINES)[number];
export const SCRIPT_DTYPES = ['float16', 'bfloat16', 'float32'] as const;
export type ScriptDtype = (typeof SCRIPT_DTYPES)[number];

export const SCRIPT_FILE = 'extract_activations.py';
export const REQUIREMENTS_FILE = 'requirements.txt';
export const PROMPTS_FILE = 'prompts.jsonl';

/** One dataset row as the script receives it. */
export interface ScriptPrompt {
  /** Dataset line number (manifest.rows). */
  readonly row: number;
  /** The rendered prompt. */
  readonly text: string;
  /** End of the entity's last occurrence in `text`, in UTF-16 code units (renderEntityPrompt's span). */
  readonly entityEnd: number;
}

export interface ExtractionScriptOptions {
  readonly engine: ScriptEngine;
  /** Hub id (org/name) or a model folder, as the script's machine sees it. Recorded as manifest.model. */
  readonly model: string;
  /** Dataset path or builtin:… as given (manifest.dataset). */
  readonly dataset: string;
  readonly prompt: string;
  readonly token: TokenChoice;
  /** Model dtype on the cluster, and the dtype the layer files are stored in. */
  readonly dtype: ScriptDtype;
  /** nnsight only: run on NDIF (`remote=True`). */
  readonly remote?: boolean;
  /** Shown in the script's header. */
  readonly generatedAt?: string;
  readonly toolVersion?: string;
}

export interface ExtractionBundle {
  readonly script: string;
  readonly requirements: string;
  readonly prompts: string;
  readonly promptsSha256: string;
}

/** The requirements.txt of an engine: pinned minimums (versions the generated code's APIs need). */
export function requirementsFor(engine: ScriptEngine): string {
  const common = ['numpy>=1.24', 'tqdm>=4.66', 'tokenizers>=0.15', 'huggingface_hub>=0.20', 'torch>=2.1', 'transformers>=4.40', 'accelerate>=0.26', 'safetensors>=0.4'];
  const extra = engine === 'nnsight' ? ['nnsight>=0.4'] : engine === 'transformer-lens' ? ['transformer_lens>=2.0'] : [];
  return `# spacetime-probe script --engine ${engine}: pinned minimums\n${[...common, ...extra].join('\n')}\n`;
}

/** prompts.jsonl: {"row", "text", "prefix"} per line (prefix = text up to the entity's end; absent for prompt-last). */
export function promptsJsonl(prompts: readonly ScriptPrompt[], token: TokenChoice): string {
  return prompts.map((prompt) => {
    if (!Number.isInteger(prompt.entityEnd) || prompt.entityEnd < 1 || prompt.entityEnd > prompt.text.length) {
      throw new RangeError(`line ${prompt.row}: entity end ${prompt.entityEnd} is outside the ${prompt.text.length}-character prompt`);
    }
    const line: Record<string, unknown> = { row: prompt.row, text: prompt.text };
    if (token === 'entity-last') line.prefix = prompt.text.slice(0, prompt.entityEnd);
    return `${JSON.stringify(line)}\n`;
  }).join('');
}

/** A Python string literal (JSON's escapes are Python's; non-ASCII stays literal in the UTF-8 file). */
function py(value: string): string {
  return JSON.stringify(value);
}

/** Build the three files of the bundle. */
export function buildExtractionBundle(prompts: readonly ScriptPrompt[], options: ExtractionScriptOptions): ExtractionBundle {
  if (!SCRIPT_ENGINES.includes(options.engine)) throw new Error(`unknown engine ${JSON.stringify(options.engine)} (expected ${SCRIPT_ENGINES.join(', ')})`);
  if (!SCRIPT_DTYPES.includes(options.dtype)) throw new Error(`unknown dtype ${JSON.stringify(options.dtype)} (expected ${SCRIPT_DTYPES.join(', ')})`);
  if (options.remote && options.engine !== 'nnsight') throw new Error('--remote runs on NDIF and needs --engine nnsight');
  if (prompts.length === 0) throw new Error('no prompts: the dataset has no valid rows');
  const promptsText = promptsJsonl(prompts, options.token);
  const promptsSha256 = crypto.createHash('sha256').update(promptsText, 'utf8').digest('hex');
  const replacements: Record<string, string> = {
    __GENERATED__: options.generatedAt ?? new Date().toISOString(),
    __VERSION__: options.toolVersion ?? '0.1.0',
    __ENGINE_NAME__: options.engine,
    __MODEL__: py(options.model),
    __DATASET__: py(options.dataset),
    __PROMPT__: py(options.prompt),
    __TOKEN__: py(options.token),
    __DTYPE__: py(options.dtype),
    __ENGINE__: py(options.engine),
    __REMOTE__: options.remote ? 'True' : 'False',
    __PROMPTS_SHA__: py(promptsSha256),
    __ROWS__: String(prompts.length),
    __ENGINE_CODE__: ENGINE_CODE[options.engine].trim(),
  };
  const script = COMMON_SCRIPT.replace(/__[A-Z_]+__/g, (key) => {
    const value = replacements[key];
    if (value === undefined) throw new Error(`extraction script template: no value for ${key}`);
    return value;
  });
  return { script, requirements: requirementsFor(options.engine), prompts: promptsText, promptsSha256 };
}

/** Write the bundle into `outDir` (created); returns the paths written. */
export function writeExtractionBundle(outDir: string, bundle: ExtractionBundle): string[] {
  fs.mkdirSync(outDir, { recursive: true });
  const files: [string, string][] = [[SCRIPT_FILE, bundle.script], [REQUIREMENTS_FILE, bundle.requirements], [PROMPTS_FILE, bundle.prompts]];
  return files.map(([name, text]) => {
    const file = path.join(outDir, name);
    writeFileAtomicSync(file, text);
    if (name === SCRIPT_FILE) fs.chmodSync(file, 0o755);
    return file;
  });
}

const COMMON_SCRIPT = String.raw`#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Spacetime Probe activation extraction (engine: __ENGINE_NAME__).

Generated by spacetime-probe __VERSION__ (spacetime-probe script) at __GENERATED__.

Runs the model over every row of prompts.jsonl and writes an activation folder that Spacetime Probe
reads as its own (docs/activations.md): manifest.json + one .npy per layer, [rows, hidden], layer 0 =
the embeddings (input of block 0), layer i = the output of block i, the last one BEFORE the final norm.

    pip install -r requirements.txt
    python extract_activations.py --out activations/         # resumable: run it again after a crash
    spacetime-probe probe --activations activations/ --dataset <the dataset> --out results/

Memory stays bounded: rows are processed in chunks (--memory-budget-mb), each chunk is written into every
layer's memory-mapped .npy at its final rows and recorded in .spacetime-probe-progress.json; a rerun skips
the chunks recorded there. manifest.json is written last: a folder without it is unfinished.
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch
from tqdm import tqdm

# ---- what was generated (do not edit: manifest.json and the prompts check depend on it) ----------------
MODEL = __MODEL__            # Hub id or model folder; manifest.json "model"
DATASET = __DATASET__        # manifest.json "dataset"
PROMPT = __PROMPT__          # prompt template; manifest.json "prompt"
TOKEN = __TOKEN__            # "entity-last" (the entity's last token) or "prompt-last"
DTYPE = __DTYPE__            # model dtype and the dtype of the layer files
ENGINE = __ENGINE__
REMOTE = __REMOTE__          # nnsight: run on NDIF
PROMPTS_SHA256 = __PROMPTS_SHA__  # of prompts.jsonl (__ROWS__ rows)

FORMAT = "spacetime-probe-activations/1"
PROGRESS_FILE = ".spacetime-probe-progress.json"
NPY_DESCR = {"float32": "<f4", "float16": "<f2", "bfloat16": "<u2"}  # bfloat16: the raw 16 bits as uint16
TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="activation folder to write (resumed if unfinished)")
    parser.add_argument("--prompts", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "prompts.jsonl"))
    parser.add_argument("--batch-size", type=int, default=32, help="prompts per forward pass")
    parser.add_argument("--max-batch-tokens", type=int, default=16384, help="cap on prompts x padded length per pass")
    parser.add_argument("--memory-budget-mb", type=int, default=512, help="host memory for one chunk of rows (all layers)")
    parser.add_argument("--device", default="auto", help="auto (device_map='auto' over the GPUs when there are any, else cpu), cpu, cuda, cuda:1, ...")
    parser.add_argument("--local", action="store_true", help="nnsight: run locally even though the script was generated with --remote")
    parser.add_argument("--tl-name", default=None, help="transformer-lens: the official model name, when MODEL is a local folder")
    return parser.parse_args()


# ---- prompts and tokenizer: the same rules as spacetime-probe's own extraction ---------------------------------
def read_prompts(path):
    with open(path, "rb") as handle:
        data = handle.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != PROMPTS_SHA256:
        sys.exit(f"{path}: SHA-256 {digest} is not the {PROMPTS_SHA256} this script was generated with; "
                 "generate the script again (spacetime-probe script) instead of editing prompts.jsonl")
    return [json.loads(line) for line in data.decode("utf-8").splitlines() if line.strip()]


def model_file(name, required=True):
    """A file of the model: from the folder, or downloaded from the Hub (tokenizer files only, not weights)."""
    if os.path.isdir(MODEL):
        path = os.path.join(MODEL, name)
        if os.path.isfile(path):
            return path
        if required:
            sys.exit(f"{MODEL} has no {name}")
        return None
    from huggingface_hub import hf_hub_download
    try:
        return hf_hub_download(MODEL, name)
    except Exception as error:  # noqa: BLE001 - missing optional file
        if required:
            sys.exit(f"cannot download {name} of {MODEL}: {error}")
        return None


class EntityTokenizer:
    """tokenizer.json + tokenizer_config.json, as src/core/model/tokenizer.ts reads them."""

    def __init__(self):
        from tokenizers import Tokenizer
        self.tok = Tokenizer.from_file(model_file("tokenizer.json"))
        config_path = model_file("tokenizer_config.json", required=False)
        config = {}
        if config_path:
            with open(config_path, encoding="utf-8") as handle:
                config = json.load(handle)
        bos = config.get("bos_token")
        bos_text = bos.get("content") if isinstance(bos, dict) else bos
        bos_id = self.tok.token_to_id(bos_text) if isinstance(bos_text, str) else None
        self.special = {i for i, added in self.tok.get_added_tokens_decoder().items() if added.special}
        # Does the post-processor put a BOS in front? Then it decides; else add_bos_token asks us to prepend it.
        with_special = self.tok.encode("a", add_special_tokens=True).ids
        without = self.tok.encode("a", add_special_tokens=False).ids
        prefixes = len(with_special) > len(without) and with_special[0] != without[0]
        self.prepend = None
        if prefixes and (bos_id is None or with_special[0] == bos_id):
            self.bos_policy = "post-processor"
        elif config.get("add_bos_token") is True:
            if bos_id is None:
                sys.exit(f"tokenizer_config.json asks for a BOS token (add_bos_token) but its bos_token {bos_text!r} is not in tokenizer.json")
            self.prepend = bos_id
            self.bos_policy = "prepended (tokenizer_config add_bos_token)"
        else:
            self.bos_policy = "none"

    def raw_ids(self, text):
        ids = list(self.tok.encode(text, add_special_tokens=True).ids)
        if self.prepend is not None and (not ids or ids[0] != self.prepend):
            ids = [self.prepend] + ids
        return ids

    def without_trailing_specials(self, ids):
        end = len(ids)
        while end > 0 and ids[end - 1] in self.special:
            end -= 1
        return end

    def decoded_length(self, ids):
        return len(self.tok.decode(list(ids), skip_special_tokens=True))

    def encode(self, text, prefix):
        """(ids, read index) or (ids, reason the row is skipped)."""
        if not text:
            return [], "empty prompt"
        ids = self.raw_ids(text)
        if not any(i not in self.special for i in ids):
            return ids, "the tokenizer produced no token for the text (only special tokens)"
        if prefix is None:
            return ids, len(ids) - 1
        index = self.entity_last(text, prefix, ids)
        if index is None or ids[index] in self.special:
            return ids, "the entity produced no token of its own"
        return ids, index

    def entity_last(self, text, prefix_text, full):
        # Tokenize the prompt cut right after the entity, P, and compare with the full prompt's ids F.
        prefix = full if prefix_text == text else self.raw_ids(prefix_text)
        length = self.without_trailing_specials(prefix)
        if length == 0:
            return None
        common = 0
        while common < length and common < len(full) and prefix[common] == full[common]:
            common += 1
        if common == length:          # P is a prefix of F: its last token is the entity's last
            return common - 1
        if common >= len(full):
            return len(full) - 1
        # They part inside the entity: the last token of F from there on that starts before the entity's end.
        end = self.decoded_length(prefix[:length])
        index = common
        nxt = common + 1
        while nxt < len(full) and full[nxt] not in self.special:
            if self.decoded_length(full[:nxt]) >= end:
                break
            index = nxt
            nxt += 1
        return index


def prompts_identity(rows_and_texts):
    """manifest.json promptsSha256: what spacetime-probe probe checks the dataset against."""
    digest = hashlib.sha256(b"spacetime-probe-prompts/1\0")
    for row, text in rows_and_texts:
        digest.update(f"{row}\0{text}\0".encode("utf-8"))
    return digest.hexdigest()


# ---- finding the residual stream in a Hugging Face model ------------------------------------------------------
FINAL_NORM_NAMES = ("norm", "ln_f", "final_layer_norm", "final_layernorm", "norm_f", "final_norm")


def num_layers_of(config):
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    for name in ("num_hidden_layers", "n_layer", "num_layers"):
        if isinstance(getattr(config, name, None), int):
            return getattr(config, name)
    sys.exit("cannot find the number of layers in the model config")


def residual_modules(model):
    """(path of the decoder-block ModuleList, path of the final norm) inside a transformers model."""
    count = num_layers_of(model.config)
    blocks = None
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == count and name:
            blocks = name
            break
    if blocks is None:
        sys.exit(f"cannot find the {count} decoder blocks (a ModuleList of that length) in {type(model).__name__}")
    parent = blocks.rsplit(".", 1)[0] if "." in blocks else ""
    base = model.get_submodule(parent) if parent else model
    for name in FINAL_NORM_NAMES:
        if isinstance(getattr(base, name, None), torch.nn.Module):
            return blocks, (f"{parent}.{name}" if parent else name), count
    sys.exit(f"cannot find the final norm next to {blocks} (looked for {', '.join(FINAL_NORM_NAMES)})")


def hidden_input(args, kwargs):
    """The residual stream a block or norm receives (first positional argument or hidden_states=)."""
    if args:
        return args[0]
    for key in ("hidden_states", "hidden_state", "x", "input"):
        if key in kwargs:
            return kwargs[key]
    raise RuntimeError("cannot find the hidden states among the module's inputs")


def device_kwargs(device):
    """accelerate's device_map="auto" (blocks spread over the GPUs) when asked and there are GPUs; else none."""
    if device == "auto" and torch.cuda.is_available():
        return {"device_map": "auto"}
    return {}


def place(model, device):
    """A model loaded without device_map goes to the one device asked for (cpu when auto finds no GPU)."""
    if device == "auto":
        return model
    return model.to(device)


def from_pretrained(cls, **kwargs):
    import transformers
    major, minor = (int(part) for part in transformers.__version__.split(".")[:2])
    key = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"
    config = transformers.AutoConfig.from_pretrained(MODEL)
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    if getattr(text, "attn_logit_softcapping", None):
        # Gemma-2's attention logit soft-capping is only applied by the eager implementation (sdpa skips it).
        kwargs.setdefault("attn_implementation", "eager")
    return cls.from_pretrained(MODEL, **{key: TORCH_DTYPES[DTYPE]}, **kwargs)


def to_storage(tensor):
    """[b, d] on any device -> numpy in the layer files' dtype (bfloat16 as its raw 16 bits)."""
    tensor = tensor.detach().to("cpu")
    if DTYPE == "bfloat16":
        return tensor.to(torch.bfloat16).contiguous().view(torch.int16).numpy().view("<u2")
    return tensor.to(TORCH_DTYPES[DTYPE]).numpy()


# ---- the engine: run_batch(ids, read) -> list over layers of [b, hidden] arrays -------------------------------
__ENGINE_CODE__


# ---- the folder: memory-mapped layer files, progress, manifest ------------------------------------------------
def write_json_atomic(path, text):
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def manifest_text(manifest):
    # As spacetime-probe writes it: one top-level field per line, each value compact.
    lines = [f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False, separators=(',', ':'))}" for key, value in manifest.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def layer_file(index):
    return f"layer_{index:03d}.npy"


def main():
    args = parse_args()
    started = time.time()
    out = os.path.abspath(args.out)
    if os.path.exists(os.path.join(out, "manifest.json")) and not os.path.exists(os.path.join(out, PROGRESS_FILE)):
        print(f"{out} is complete (manifest.json written); nothing to do", file=sys.stderr)
        return 0
    os.makedirs(out, exist_ok=True)

    prompts = read_prompts(args.prompts)
    tokenizer = EntityTokenizer()
    valid, skipped = [], []
    for prompt in prompts:
        ids, read = tokenizer.encode(prompt["text"], prompt.get("prefix") if TOKEN == "entity-last" else None)
        if isinstance(read, str):
            skipped.append({"row": prompt["row"], "text": prompt["text"], "reason": read})
        else:
            valid.append((prompt, ids, read))
    if not valid:
        sys.exit("no usable prompt: the tokenizer produced no token for any of them")
    identity = prompts_identity([(prompt["row"], prompt["text"]) for prompt, _, _ in valid])
    print(f"{len(valid)} prompts ({len(skipped)} skipped), BOS: {tokenizer.bos_policy}, token: {TOKEN}", file=sys.stderr)

    engine = Engine(args)
    n, num_layers, hidden = len(valid), engine.num_layers + 1, engine.hidden_size
    item = np.dtype(NPY_DESCR[DTYPE]).itemsize
    chunk_rows = max(1, min(n, args.memory_budget_mb * 2**20 // (num_layers * hidden * item)))
    chunks = [(start, min(n, start + chunk_rows)) for start in range(0, n, chunk_rows)]
    state_key = {"promptsSha256": identity, "numEntities": n, "numLayers": num_layers, "hiddenSize": hidden,
                 "dtype": DTYPE, "chunkRows": chunk_rows, "model": MODEL}

    progress_path = os.path.join(out, PROGRESS_FILE)
    done = set()
    if os.path.exists(progress_path):
        with open(progress_path, encoding="utf-8") as handle:
            state = json.load(handle)
        if state.get("key") == state_key and all(os.path.exists(os.path.join(out, layer_file(i))) for i in range(num_layers)):
            done = set(state.get("done", []))
            print(f"resuming: {len(done)} of {len(chunks)} chunks already written", file=sys.stderr)
        else:
            print("the progress file belongs to another run (prompts, model or dtype differ): starting over", file=sys.stderr)
    mode = "r+" if done else "w+"
    layers = [np.lib.format.open_memmap(os.path.join(out, layer_file(i)), mode=mode, dtype=NPY_DESCR[DTYPE], shape=(n, hidden))
              for i in range(num_layers)]
    write_json_atomic(progress_path, json.dumps({"key": state_key, "done": sorted(done)}))

    bar = tqdm(total=n, initial=sum(end - start for k, (start, end) in enumerate(chunks) if k in done), unit="prompt", desc="extracting")
    for k, (start, end) in enumerate(chunks):
        if k in done:
            continue
        buffer = np.empty((num_layers, end - start, hidden), dtype=NPY_DESCR[DTYPE])
        order = sorted(range(start, end), key=lambda i: (-len(valid[i][1]), i))  # longest first, right-padded
        first = 0
        while first < len(order):
            longest = len(valid[order[first]][1])
            size = max(1, min(args.batch_size, len(order) - first, args.max_batch_tokens // longest))
            batch = order[first:first + size]
            outputs = engine.run_batch([valid[i][1] for i in batch], [valid[i][2] for i in batch])
            for layer, values in enumerate(outputs):
                buffer[layer, [i - start for i in batch]] = values
            first += size
            bar.update(size)
        for layer in range(num_layers):
            layers[layer][start:end] = buffer[layer]
            layers[layer].flush()
        done.add(k)
        write_json_atomic(progress_path, json.dumps({"key": state_key, "done": sorted(done)}))
    bar.close()
    del layers

    manifest = {
        "format": FORMAT, "model": MODEL, "prompt": PROMPT, "token": TOKEN, "dataset": DATASET,
        "numEntities": n, "hiddenSize": hidden, "rows": [prompt["row"] for prompt, _, _ in valid],
        "layers": [{"index": i, "file": layer_file(i)} for i in range(num_layers)],
        "architecture": engine.architecture, "device": engine.device, "dtype": DTYPE, "skipped": skipped,
        "promptsSha256": identity,
        "producer": {"tool": "spacetime-probe script", "engine": ENGINE, "remote": engine.remote, "versions": engine.versions(),
                     "bos": tokenizer.bos_policy, "seconds": round(time.time() - started, 1)},
    }
    write_json_atomic(os.path.join(out, "manifest.json"), manifest_text(manifest))
    os.remove(progress_path)
    print(f"{n} entities x {num_layers} layers x {hidden} -> {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;

const HF_ENGINE = String.raw`
class Engine:
    """Hugging Face transformers; with GPUs, accelerate's device_map="auto" spreads the blocks over them."""

    remote = False

    def __init__(self, args):
        import transformers
        from transformers import AutoModelForCausalLM
        self.model = place(from_pretrained(AutoModelForCausalLM, **device_kwargs(args.device)), args.device).eval()
        blocks_path, norm_path, self.num_layers = residual_modules(self.model)
        config = self.model.config.get_text_config() if hasattr(self.model.config, "get_text_config") else self.model.config
        self.hidden_size = config.hidden_size
        self.architecture = getattr(config, "model_type", None) or type(self.model).__name__
        self.device = "cuda" if torch.cuda.is_available() and args.device != "cpu" else "cpu"
        self.transformers = transformers.__version__
        blocks = self.model.get_submodule(blocks_path)
        self.taps = [blocks[i] for i in range(self.num_layers)] + [self.model.get_submodule(norm_path)]
        self.captured = [None] * len(self.taps)
        self.read = None
        for position, module in enumerate(self.taps):
            module.register_forward_pre_hook(self.hook(position), with_kwargs=True)
        self.first_device = next(self.model.parameters()).device

    def hook(self, position):
        def capture(module, args, kwargs):
            hidden = hidden_input(args, kwargs)
            rows = torch.arange(hidden.shape[0], device=hidden.device)
            # Gather the read token at once: only [batch, hidden] per layer leaves the GPU.
            self.captured[position] = to_storage(hidden[rows, self.read.to(hidden.device)])
        return capture

    def versions(self):
        return {"torch": torch.__version__, "transformers": self.transformers}

    @torch.inference_mode()
    def run_batch(self, ids, read):
        longest = max(len(x) for x in ids)
        input_ids = torch.zeros((len(ids), longest), dtype=torch.long)
        mask = torch.zeros((len(ids), longest), dtype=torch.long)
        for row, x in enumerate(ids):  # right padding: a causal model's earlier positions do not see it
            input_ids[row, :len(x)] = torch.tensor(x)
            mask[row, :len(x)] = 1
        self.read = torch.tensor(read)
        self.captured = [None] * len(self.taps)
        self.model(input_ids=input_ids.to(self.first_device), attention_mask=mask.to(self.first_device), use_cache=False)
        return self.captured
`;

const NNSIGHT_ENGINE = String.raw`
class Engine:
    """nnsight: the same taps, saved inside a trace; remote=True runs the trace on NDIF (ndif.us)."""

    def __init__(self, args):
        from nnsight import LanguageModel
        self.remote = REMOTE and not args.local
        kwargs = {} if self.remote else (device_kwargs(args.device) or ({} if args.device == "auto" else {"device_map": args.device}))
        self.lm = LanguageModel(MODEL, dispatch=not self.remote, **kwargs, **{"torch_dtype": TORCH_DTYPES[DTYPE]})
        inner = self.lm._model
        blocks_path, norm_path, self.num_layers = residual_modules(inner)
        config = inner.config.get_text_config() if hasattr(inner.config, "get_text_config") else inner.config
        self.hidden_size = config.hidden_size
        self.architecture = getattr(config, "model_type", None) or type(inner).__name__
        self.device = "ndif" if self.remote else ("cuda" if torch.cuda.is_available() and args.device != "cpu" else "cpu")
        self.taps = [self.envoy(f"{blocks_path}.{i}") for i in range(self.num_layers)] + [self.envoy(norm_path)]

    def envoy(self, dotted):
        node = self.lm
        for part in dotted.split("."):
            node = node[int(part)] if part.isdigit() else getattr(node, part)
        return node

    def versions(self):
        import nnsight
        return {"torch": torch.__version__, "nnsight": getattr(nnsight, "__version__", "?")}

    def run_batch(self, ids, read):
        longest = max(len(x) for x in ids)
        input_ids = torch.zeros((len(ids), longest), dtype=torch.long)
        mask = torch.zeros((len(ids), longest), dtype=torch.long)
        for row, x in enumerate(ids):
            input_ids[row, :len(x)] = torch.tensor(x)
            mask[row, :len(x)] = 1
        rows, index = torch.arange(len(ids)), torch.tensor(read)
        saved = []
        with torch.inference_mode(), self.lm.trace({"input_ids": input_ids, "attention_mask": mask}, remote=self.remote):
            for tap in self.taps:
                # .input: the module's first positional input (the residual stream); gathered before it is sent back.
                saved.append(tap.input[rows, index].save())
        return [to_storage(getattr(value, "value", value)) for value in saved]
`;

const TRANSFORMER_LENS_ENGINE = String.raw`
class Engine:
    """TransformerLens, loaded WITHOUT its weight processing (no folded LayerNorm, no centring), so that the
    residual stream is the checkpoint's own: hook_resid_pre of every block, hook_resid_post of the last."""

    remote = False

    def __init__(self, args):
        import transformer_lens
        from transformers import AutoModelForCausalLM
        from transformer_lens import HookedTransformer
        device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
        hf_model = from_pretrained(AutoModelForCausalLM)
        self.model = HookedTransformer.from_pretrained_no_processing(
            args.tl_name or MODEL, hf_model=hf_model, dtype=TORCH_DTYPES[DTYPE], device=device,
            n_devices=max(1, torch.cuda.device_count()) if device.startswith("cuda") else 1)
        self.model.eval()
        self.num_layers = self.model.cfg.n_layers
        self.hidden_size = self.model.cfg.d_model
        self.architecture = getattr(hf_model.config, "model_type", None) or self.model.cfg.original_architecture
        self.device = device
        del hf_model
        self.names = [f"blocks.{i}.hook_resid_pre" for i in range(self.num_layers)] + [f"blocks.{self.num_layers - 1}.hook_resid_post"]
        self.tl_version = getattr(transformer_lens, "__version__", "?")

    def versions(self):
        return {"torch": torch.__version__, "transformer_lens": self.tl_version}

    @torch.inference_mode()
    def run_batch(self, ids, read):
        longest = max(len(x) for x in ids)
        tokens = torch.zeros((len(ids), longest), dtype=torch.long)
        for row, x in enumerate(ids):  # right padding; causal attention keeps it away from earlier positions
            tokens[row, :len(x)] = torch.tensor(x)
        wanted = set(self.names)
        _, cache = self.model.run_with_cache(tokens.to(self.model.cfg.device), names_filter=lambda name: name in wanted, return_type=None)
        rows, index = torch.arange(len(ids)), torch.tensor(read)
        return [to_storage(cache[name][rows.to(cache[name].device), index.to(cache[name].device)]) for name in self.names]
`;

const ENGINE_CODE: Readonly<Record<ScriptEngine, string>> = {
  hf: HF_ENGINE,
  nnsight: NNSIGHT_ENGINE,
  'transformer-lens': TRANSFORMER_LENS_ENGINE,
};

/** The script's prompts for a dataset's valid rows under a template (renderEntityPrompt: the entity's last occurrence). */
export function scriptPromptsFor(entities: readonly { readonly line: number; readonly name: string }[], template: string,
  render: (template: string, entity: string) => { text: string; entity: { end: number } }): ScriptPrompt[] {
  return entities.map((entity) => {
    const rendered = render(template, entity.name);
    return { row: entity.line, text: rendered.text, entityEnd: rendered.entity.end };
  });
}
