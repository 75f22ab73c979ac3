#!/usr/bin/env python3
"""PyTorch side of the extraction benchmark (Debian python3-torch 1.13, CPU).

    /usr/bin/python3 bench/extraction/torch_gpt2.py export DIR [--layers 12 --hidden 768 --heads 12 --vocab 50257]
    /usr/bin/python3 bench/extraction/torch_gpt2.py time DIR [--threads 2 --repeats 3 --runs 5]

`export` builds a GPT-2-shaped model in plain torch (learned positions, pre-norm LayerNorm, GELU MLP, tied LM head;
random weights, seed 0), saves its weights (DIR/weights.pt), exports it with the TorchScript exporter at opset 17
to DIR/onnx/model.onnx with config.json and a placeholder tokenizer.json, draws a fixed batch of token ids
(DIR/batch.json, every row full length) and writes the last-token residual stream at every block boundary for that
batch (DIR/reference.json), so the JS side can check it runs the same model.

`time` reloads the weights and times every-layer extraction the way `output_hidden_states=True` works: a full
forward pass that keeps every layer's hidden states (and, like HF, computes the logits), and a variant that stops
before the final norm and LM head (the fairest comparison with our pruned graph). Best of `repeats`, each
`runs` forward passes, under torch.inference_mode with torch.set_num_threads(threads). Prints one JSON object.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.head_dim = heads, d // heads
        self.ln_1 = nn.LayerNorm(d)
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.c_fc = nn.Linear(d, 4 * d)
        self.mlp_proj = nn.Linear(4 * d, d)

    def forward(self, x, mask):
        b, t, d = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, self.head_dim).transpose(1, 2) for z in (q, k, v))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + mask
        attn = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.c_proj(attn)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class Gpt2(nn.Module):
    def __init__(self, vocab, d, heads, layers, positions=1024):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(positions, d)
        self.h = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(d)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)

    def hidden_states(self, input_ids, attention_mask, with_head=True):
        """Every block boundary [B, T, D] (embeddings first), plus logits when with_head.

        Positions and the mask are made on the inputs' device in the model's dtype, so the same code runs on a GPU
        and in float16 (bench/device-check/torch_side.py); -1e9 does not fit in float16, -1e4 is far enough there.
        """
        t = input_ids.shape[1]
        device = input_ids.device
        x = self.wte(input_ids) + self.wpe(torch.arange(t, device=device)[None])
        causal = torch.ones(t, t, device=device).tril().bool()
        keep = causal[None, None] & attention_mask[:, None, None, :].bool()
        fill = -1e4 if x.dtype == torch.float16 else -1e9
        mask = torch.where(keep, torch.zeros((), device=device, dtype=x.dtype), torch.full((), fill, device=device, dtype=x.dtype))
        states = [x]
        for block in self.h:
            x = block(x, mask)
            states.append(x)
        logits = self.ln_f(x) @ self.wte.weight.T if with_head else None
        return states, logits

    def forward(self, input_ids, attention_mask):
        return self.hidden_states(input_ids, attention_mask)[1]


def build(args):
    torch.manual_seed(0)
    return Gpt2(args.vocab, args.hidden, args.heads, args.layers).eval()


def export(args):
    os.makedirs(os.path.join(args.dir, "onnx"), exist_ok=True)
    model = build(args)
    torch.save({"state": model.state_dict(), "shape": vars(args)}, os.path.join(args.dir, "weights.pt"))
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(0, args.vocab, (args.batch, args.seq), generator=generator)
    mask = torch.ones_like(ids)
    with torch.no_grad():
        states, _ = model.hidden_states(ids, mask)
    reference = {"num_layers": args.layers, "hidden_size": args.hidden,
                 "prompts": [{"prompt": "", "ids": row.tolist(), "layers": [[float(v) for v in s[b, -1]] for s in states]}
                             for b, row in enumerate(ids)]}
    with open(os.path.join(args.dir, "reference.json"), "w") as f:
        json.dump(reference, f)
    with open(os.path.join(args.dir, "batch.json"), "w") as f:
        json.dump({"ids": ids.tolist()}, f)
    with open(os.path.join(args.dir, "config.json"), "w") as f:
        json.dump({"model_type": "gpt2", "n_layer": args.layers, "n_embd": args.hidden, "n_head": args.heads,
                   "vocab_size": args.vocab}, f)
    # Placeholder tokenizer: the benchmark feeds token ids; "w<k>" maps to id k for the end-to-end run.
    vocab = {"<unk>": 0, **{f"w{k}": k for k in range(1, 2000)}}
    with open(os.path.join(args.dir, "tokenizer.json"), "w") as f:
        json.dump({"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
                   "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": None, "decoder": None,
                   "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"}}, f)
    axes = {0: "batch_size", 1: "sequence_length"}
    torch.onnx.export(model, (ids, mask), os.path.join(args.dir, "onnx", "model.onnx"), opset_version=17,
                      do_constant_folding=True, input_names=["input_ids", "attention_mask"], output_names=["logits"],
                      dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": axes})
    print(json.dumps({"exported": os.path.join(args.dir, "onnx", "model.onnx")}))


def time_extraction(args):
    torch.set_num_threads(args.threads)
    saved = torch.load(os.path.join(args.dir, "weights.pt"))
    shape = argparse.Namespace(**saved["shape"])
    model = Gpt2(shape.vocab, shape.hidden, shape.heads, shape.layers).eval()
    model.load_state_dict(saved["state"])
    with open(os.path.join(args.dir, "batch.json")) as f:
        ids = torch.tensor(json.load(f)["ids"])
    mask = torch.ones_like(ids)
    tokens = ids.numel()
    results = {}
    for name, with_head in (("hidden_states_with_lm_head", True), ("hidden_states_no_head", False)):
        with torch.inference_mode():
            def step():
                states, _ = model.hidden_states(ids, mask, with_head)
                # What an extractor keeps: the last token of every layer.
                return torch.stack([s[:, -1] for s in states], dim=1)
            step()  # warm-up
            best = float("inf")
            for _ in range(args.repeats):
                start = time.perf_counter()
                for _ in range(args.runs):
                    step()
                best = min(best, (time.perf_counter() - start) / args.runs)
        results[name] = {"seconds_per_batch": best, "tokens_per_second": tokens / best}
    results.update({
        "batch": list(ids.shape), "threads": args.threads, "repeats": args.repeats, "runs": args.runs,
        "torch": torch.__version__, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    })
    print(json.dumps(results))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["export", "time"])
    parser.add_argument("dir")
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--vocab", type=int, default=50257)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.command == "export":
        export(args)
    else:
        time_extraction(args)


if __name__ == "__main__":
    sys.exit(main())
