#!/usr/bin/env python3
"""Train a skill's LoRA adapter on this CPU and write it as a llama.cpp GGUF adapter.

    python3 skills/train/train.py skills/rover --base ~/.cache/trinity/models/gemma-3-270m-q4_k_m.gguf

(`cargo xtask train-skill skills/rover` makes the venv and runs this.)

- The base is the quantized GGUF the robot runs: transformers loads it dequantized, so the
  adapter learns the corrections the 4-bit model needs (the QLoRA idea).
- Each example is tokenized exactly as the runtime evaluates it: the skill's prefix (with
  BOS), then `template` with the command (no BOS), then the plan with its leading space.
  The loss covers only the plan tokens.
- LoRA rank 16 on q/k/v/o and the MLP's gate/up/down of every layer (rank 8 on q/k/v/o
  for 90 steps reached a low mean loss but still flipped the sign of turns: the one token
  that matters most is a small part of the mean). PEFT's `lora_A.weight` (r, n_in) and
  `lora_B.weight` (n_out, r) are written unchanged; gguf-py reverses numpy shapes, so they
  arrive as ggml ne = [n_in, r] and [r, n_out], which is what llama.cpp expects.
- `--steps 2` is a smoke run (CI); the shipped adapters were trained with the defaults.
"""

import argparse
import json
import math
import os
import random
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

HF_TO_GGUF = {
    "q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output",
    "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down",
}


def load_skill(skill_dir):
    spec = tomllib.loads((skill_dir / "skill.toml").read_text())
    prompt = spec["prompt"]
    before, after = prompt["template"].split("{command}")
    examples = [json.loads(line) for line in (skill_dir / "examples.jsonl").read_text().splitlines() if line.strip()]
    return spec, prompt["prefix"] + before, after, examples


def plan_text(plan):
    return " " + json.dumps(plan, separators=(",", ":"))


def encode(tok, prefix, after, ex):
    """(input ids, number of prompt tokens) as the runtime tokenizes them."""
    p = tok(prefix, add_special_tokens=False)["input_ids"]
    if tok.bos_token_id is not None:
        p = [tok.bos_token_id] + p
    c = tok(ex["command"] + after, add_special_tokens=False)["input_ids"]
    t = tok(plan_text(ex["plan"]), add_special_tokens=False)["input_ids"]
    return p + c + t, len(p) + len(c)


def batch_loss(model, lm_head, rows, pad_id, softcap):
    """Mean cross-entropy over the plan tokens of `rows`; the LM head runs only there."""
    width = max(len(ids) for ids, _ in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, (r, _) in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
    sel_h, sel_y = [], []
    for i, (r, n_prompt) in enumerate(rows):
        # position j predicts token j+1
        sel_h.append(hidden[i, n_prompt - 1 : len(r) - 1])
        sel_y.append(torch.tensor(r[n_prompt:]))
    logits = lm_head(torch.cat(sel_h))
    if softcap:
        logits = torch.tanh(logits / softcap) * softcap
    return F.cross_entropy(logits.float(), torch.cat(sel_y))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skill_dir", type=Path)
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=240)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", type=Path, help="adapter path (default: the skill's first adapter file)")
    ap.add_argument("--peft-out", type=Path, help="also save the PEFT adapter (for `trinity adapter import`)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)

    from transformers import AutoModelForCausalLM, AutoTokenizer
    from peft import LoraConfig, get_peft_model

    spec, prefix, after, examples = load_skill(args.skill_dir)
    out = args.out or args.skill_dir / spec["adapters"][0]["file"]

    t0 = time.time()
    base_dir, base_file = str(args.base.parent), args.base.name
    tok = AutoTokenizer.from_pretrained(base_dir, gguf_file=base_file)
    model = AutoModelForCausalLM.from_pretrained(base_dir, gguf_file=base_file, torch_dtype=torch.float32)
    print(f"loaded {args.base.name} in {time.time() - t0:.0f} s", flush=True)
    softcap = getattr(model.config, "final_logit_softcapping", None)

    cfg = LoraConfig(r=args.rank, lora_alpha=args.alpha, lora_dropout=0.0, bias="none",
                     target_modules=list(HF_TO_GGUF), task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, cfg)
    inner = peft_model.base_model.model  # the *ForCausalLM
    body, lm_head = inner.model, inner.lm_head

    rows = [encode(tok, prefix, after, ex) for ex in examples]
    rng = random.Random(args.seed)
    rng.shuffle(rows)
    n_val = min(32, len(rows) // 10)
    val, train = rows[:n_val], rows[n_val:]
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0

    def val_loss():
        with torch.no_grad():
            return sum(batch_loss(body, lm_head, val[i : i + 16], pad, softcap).item() * len(val[i : i + 16])
                       for i in range(0, len(val), 16)) / len(val)

    params = [p for p in peft_model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    warm = max(1, args.steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))

    v0 = val_loss()
    print(f"held-out loss before: {v0:.3f} ({len(train)} train / {len(val)} validation examples)", flush=True)
    t_train = time.time()
    order = []
    peft_model.train()
    for step in range(args.steps):
        if len(order) < args.batch:
            order = list(range(len(train)))
            rng.shuffle(order)
        batch = [train[order.pop()] for _ in range(args.batch)]
        loss = batch_loss(body, lm_head, batch, pad, softcap)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 10 == 0 or step == args.steps - 1:
            print(f"step {step + 1}/{args.steps} loss {loss.item():.3f} ({time.time() - t_train:.0f} s)", flush=True)
    train_s = time.time() - t_train
    peft_model.eval()
    v1 = val_loss()
    print(f"held-out loss after: {v1:.3f}; training took {train_s:.0f} s", flush=True)

    write_gguf(peft_model, model.config, args.alpha, out)
    if args.peft_out:
        peft_model.save_pretrained(str(args.peft_out))
    report = {"steps": args.steps, "batch": args.batch, "rank": args.rank, "alpha": args.alpha, "lr": args.lr,
              "train_seconds": round(train_s, 1), "val_loss_before": round(v0, 4), "val_loss_after": round(v1, 4),
              "examples": len(train), "adapter_bytes": out.stat().st_size, "threads": args.threads}
    (out.parent / (out.stem + ".train.json")).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))


def write_gguf(peft_model, config, alpha, out):
    import gguf

    arch = "gemma3" if config.model_type.startswith("gemma3") else config.model_type
    tmp = out.with_suffix(".gguf.tmp")
    w = gguf.GGUFWriter(str(tmp), arch=arch)
    w.add_string("general.type", "adapter")
    w.add_string("adapter.type", "lora")
    w.add_float32("adapter.lora.alpha", float(alpha))
    n = 0
    for name, p in peft_model.named_parameters():
        if "lora_" not in name:
            continue
        # base_model.model.model.layers.3.self_attn.q_proj.lora_A.default.weight
        parts = name.split(".")
        layer = parts[parts.index("layers") + 1]
        ab = "lora_a" if "lora_A" in parts else "lora_b"
        proj = parts[parts.index("lora_A" if ab == "lora_a" else "lora_B") - 1]
        data = p.detach().to(torch.float32).numpy().astype(np.float16)
        w.add_tensor(f"blk.{layer}.{HF_TO_GGUF[proj]}.weight.{ab}", data)
        n += 1
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, out)  # never leave a half-written adapter where the daemon looks
    print(f"wrote {out} ({n} tensors, {out.stat().st_size} bytes)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
