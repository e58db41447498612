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
- 500 steps of 8 (about 1.7 epochs): over three seeds each, 3.7-5.8 points above 250 steps
  on every hand-written rover set, and less seed-dependent (BENCHMARKS.md, issue 12). The
  shipped adapters were trained with 250 (their `*.train.json` say so).
- Speed (issue 12): the frozen base in bfloat16 with the adapter in float32 under autocast,
  on CPUs with bfloat16 instructions (`--precision`), and the LM head's full vocabulary
  only where the model decides (`Head`).
- `--steps 2` is a smoke run (CI).
"""

import argparse
import json
import math
import os
import random
import subprocess
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


def render(skill_dir, rendered):
    """Each example as the runtime prompts the model: `trinity skill render` (the cached
    prefix, then the command after normalizing and cleaning, with the rest of the template)."""
    if rendered is None:
        root = Path(__file__).resolve().parents[2]
        out = subprocess.run(["cargo", "run", "--quiet", "-p", "trinity-runtime", "--", "skill", "render",
                              str(skill_dir.resolve())], cwd=root, check=True, capture_output=True, text=True).stdout
    else:
        out = rendered.read_text()
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    # The plans as written in examples.jsonl: their field order is the grammar's (a JSON
    # value passed through Rust may come back with its keys sorted).
    plans = [json.loads(line)["plan"] for line in (skill_dir / "examples.jsonl").read_text().splitlines()
             if line.strip()]
    if len(plans) != len(rows):
        sys.exit(f"render gave {len(rows)} rows for {len(plans)} examples")
    for row, plan in zip(rows, plans):
        row["plan"] = plan
    return rows


def plan_text(plan):
    return " " + json.dumps(plan, separators=(",", ":"))


def encode(tok, row):
    """(input ids, number of prompt tokens) as the runtime tokenizes them: the prefix with
    BOS, the command's text without, then the plan with its leading space."""
    p = tok(row["prefix"], add_special_tokens=False)["input_ids"]
    if tok.bos_token_id is not None:
        p = [tok.bos_token_id] + p
    c = tok(row["text"], add_special_tokens=False)["input_ids"]
    t = tok(plan_text(row["plan"]), add_special_tokens=False)["input_ids"]
    return p + c + t, len(p) + len(c)


def batch_loss(model, head, rows, pad_id, shared=0):
    """Mean cross-entropy over the plan tokens of `rows`; the LM head runs only there.

    `shared` > 0: every row starts with the same `shared` tokens (the skill's prefix). They
    are evaluated once, as a batch of one, and their keys and values repeated for the batch
    (what the runtime's prefix cache does); the gradient flows through them as before. On a
    2-core CPU this is most of the training time saved.
    """
    if shared:
        return batch_loss_shared(model, head, rows, pad_id, shared)
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
    return plan_loss(head, sel_h, sel_y)


FIRST_TOKEN_WEIGHT = 4.0
DECISION_WEIGHT = 3.0
# Filled in by main() from the tokenizer: token id -> its text.
TOKEN_TEXT = {}


def token_weights(y):
    """Each plan token's weight in the loss. The first decides between a plan and "nothing to
    do" (` []`) and between the actions. The other decisions are the tokens the grammar does
    not force: signs and digits, action/joint/output names and states, `true`/`false`, and
    whether the plan ends (`}]`) or goes on (`},{"`). The rest (`action`, `":"`,
    `distance_m`…) are forced at inference and would otherwise be most of the mean: the
    sign of a drive ("back up") was one token in forty."""
    texts = [TOKEN_TEXT.get(int(t), "") for t in y]
    w = []
    for k, t in enumerate(texts):
        prev = texts[k - 1] if k else ""
        decision = (any(c in "-0123456789" for c in t) or "]" in t or "}," in t
                    or t in ("true", "false") or prev.endswith('":"') or prev.endswith('":'))
        w.append(FIRST_TOKEN_WEIGHT if k == 0 else DECISION_WEIGHT if decision else 1.0)
    return torch.tensor(w)


class Head:
    """The LM head as training uses it. Gemma's vocabulary is 262,144 tokens, and the full
    head over every plan token (its matrix product, the softcap and the softmax, forward and
    backward) was half of a training step on this CPU.

    - Decisions (the tokens `token_weights` weighs up: what the model chooses at inference,
      and what its confidence is computed from): softmax over the whole vocabulary, as before.
    - Tokens the grammar forces (`action`, `":"`, field names; inference never samples them):
      softmax over only the tokens that occur in some plan (`w_plan`, a few hundred rows).
      Their loss keeps the plan's shape in the adapter at a thousandth of the cost.
      `--full-head` puts them on the whole vocabulary again (the old objective).
    - In bf16 the frozen head matrix is converted once, not at every call.
    """

    def __init__(self, lm_head, softcap, plan_tokens, bf16, full):
        w = lm_head.weight.detach()
        self.w = w.to(torch.bfloat16) if bf16 else w
        self.bf16, self.softcap, self.full = bf16, softcap, full
        self.plan_ids = torch.tensor(sorted(plan_tokens))
        self.w_plan = self.w[self.plan_ids].clone()
        self.index = torch.full((w.shape[0],), -1, dtype=torch.long)
        self.index[self.plan_ids] = torch.arange(len(self.plan_ids))

    def logits(self, h, w):
        if self.bf16:
            h = h.to(torch.bfloat16)
        x = F.linear(h, w).float()
        return torch.tanh(x / self.softcap) * self.softcap if self.softcap else x


def plan_loss(head, sel_h, sel_y):
    """Weighted cross-entropy over the plan tokens (see `token_weights` and `Head`)."""
    h, y = torch.cat(sel_h), torch.cat(sel_y)
    w = torch.cat([token_weights(t) for t in sel_y])
    if head.full:
        ce = F.cross_entropy(head.logits(h, head.w), y, reduction="none")
        return (ce * w).sum() / w.sum()
    d = w > 1.0
    total = F.cross_entropy(head.logits(h[d], head.w), y[d], reduction="none") @ w[d]
    if (~d).any():
        total = total + F.cross_entropy(head.logits(h[~d], head.w_plan), head.index[y[~d]], reduction="none") @ w[~d]
    return total / w.sum()


def batch_loss_shared(model, head, rows, pad_id, shared):
    prefix = torch.tensor([rows[0][0][:shared]])
    out = model(input_ids=prefix, use_cache=True)
    cache = out.past_key_values
    cache.batch_repeat_interleave(len(rows))
    width = max(len(ids) for ids, _ in rows) - shared
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), shared + width), dtype=torch.long)
    mask[:, :shared] = 1
    for i, (r, _) in enumerate(rows):
        ids[i, : len(r) - shared] = torch.tensor(r[shared:])
        mask[i, shared : len(r)] = 1
    pos = torch.arange(shared, shared + width)
    hidden = model(input_ids=ids, attention_mask=mask, past_key_values=cache, use_cache=True,
                   position_ids=pos.unsqueeze(0).expand(len(rows), -1), cache_position=pos).last_hidden_state
    # the last shared position's output (predicting the first row token) is never a plan token
    sel_h, sel_y = [], []
    for i, (r, n_prompt) in enumerate(rows):
        sel_h.append(hidden[i, n_prompt - 1 - shared : len(r) - 1 - shared])
        sel_y.append(torch.tensor(r[n_prompt:]))
    return plan_loss(head, sel_h, sel_y)


def load_base(base):
    """The GGUF base, dequantized. Dequantizing takes about a minute on this CPU, so the
    result is kept beside the model (`<model>.dequantized/`, keyed by the file's size and
    mtime) and later runs load that in seconds."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    st = base.stat()
    cache = base.with_name(base.name + ".dequantized")
    key = f"{st.st_size}-{int(st.st_mtime)}"
    from safetensors.torch import load_model, save_model
    from transformers import AutoConfig

    if (cache / "key").exists() and (cache / "key").read_text() == key:
        tok = AutoTokenizer.from_pretrained(str(cache))
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(str(cache)), torch_dtype=torch.float32)
        load_model(model, str(cache / "model.safetensors"))
        return tok, model
    tok = AutoTokenizer.from_pretrained(str(base.parent), gguf_file=base.name)
    model = AutoModelForCausalLM.from_pretrained(str(base.parent), gguf_file=base.name, torch_dtype=torch.float32)
    try:
        tmp = cache.with_name(cache.name + ".tmp")
        tmp.mkdir(exist_ok=True)
        model.config.save_pretrained(str(tmp))
        save_model(model, str(tmp / "model.safetensors"))
        tok.save_pretrained(str(tmp))
        (tmp / "key").write_text(key)
        if cache.exists():
            import shutil
            shutil.rmtree(cache)
        os.replace(tmp, cache)
    except OSError as e:
        print(f"(not caching the dequantized base: {e})", flush=True)
    return tok, model


def cpu_has_bf16():
    """Whether this CPU computes in bfloat16 natively (without it, bf16 is slower than fp32)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def batches(train, size, rng):
    """One epoch of batches, rows of similar length together (less padding), in random order."""
    order = list(range(len(train)))
    rng.shuffle(order)
    out = []
    chunk = size * 16
    for c in range(0, len(order), chunk):
        part = sorted(order[c : c + chunk], key=lambda i: len(train[i][0]))
        out += [part[k : k + size] for k in range(0, len(part) - size + 1, size)]
    rng.shuffle(out)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("skill_dir", type=Path)
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1.2e-3)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", type=Path, help="adapter path (default: the skill's first adapter file)")
    ap.add_argument("--peft-out", type=Path, help="also save the PEFT adapter (for `trinity adapter import`)")
    ap.add_argument("--share-prefix", type=int, default=1, help="evaluate the shared prefix once per batch (0: off)")
    ap.add_argument("--check-shared", action="store_true", help="compare the shared-prefix loss with the plain one and exit")
    ap.add_argument("--rendered", type=Path, help="`trinity skill render` output (default: run it with cargo)")
    ap.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                    help="bf16: the frozen base in bfloat16, the adapter in float32 (auto: bf16 where the CPU "
                         "has bfloat16 instructions, avx512_bf16 or amx_bf16)")
    ap.add_argument("--full-head", action="store_true",
                    help="the grammar-forced plan tokens' loss over the whole vocabulary too (slower; see Head)")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)

    from transformers import AutoModelForCausalLM, AutoTokenizer
    from peft import LoraConfig, get_peft_model

    spec = tomllib.loads((args.skill_dir / "skill.toml").read_text())
    examples = render(args.skill_dir, args.rendered)
    out = args.out or args.skill_dir / spec["adapters"][0]["file"]

    t0 = time.time()
    tok, model = load_base(args.base)
    print(f"loaded {args.base.name} in {time.time() - t0:.0f} s", flush=True)
    torch.manual_seed(args.seed)  # loading may draw random numbers; the LoRA init must not depend on it
    softcap = getattr(model.config, "final_logit_softcapping", None)
    bf16 = args.precision == "bf16" or (args.precision == "auto" and cpu_has_bf16())
    if bf16:
        model.to(torch.bfloat16)  # PEFT keeps the adapter's own weights in float32
    print(f"precision: {'bf16 base, fp32 adapter' if bf16 else 'fp32'}", flush=True)

    cfg = LoraConfig(r=args.rank, lora_alpha=args.alpha, lora_dropout=0.0, bias="none",
                     target_modules=list(HF_TO_GGUF), task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, cfg)
    if bf16:
        # The adapter stays float32 (what AdamW updates); autocast runs its products in bf16
        # too, and the activations stay bf16 (PEFT would otherwise copy them to float32
        # at each of the 126 adapted layers, forward and backward).
        for m in peft_model.modules():
            if hasattr(m, "lora_A"):
                m.cast_input_dtype_enabled = False
    inner = peft_model.base_model.model  # the *ForCausalLM
    body, lm_head = inner.model, inner.lm_head

    rows = [encode(tok, row) for row in examples]
    for ids, n in rows:
        for t in ids[n:]:
            if t not in TOKEN_TEXT:
                TOKEN_TEXT[t] = tok.decode([t])
    rng = random.Random(args.seed)
    rng.shuffle(rows)
    n_val = min(32, len(rows) // 10)
    val, train = rows[:n_val], rows[n_val:]
    pad = tok.pad_token_id if tok.pad_token_id is not None else 0
    plan_tokens = {t for ids, n in rows for t in ids[n:]}
    head = Head(lm_head, softcap, plan_tokens, bf16, args.full_head)
    # validation always over the whole vocabulary, comparable between runs and with older records
    val_head = Head(lm_head, softcap, plan_tokens, bf16, True)

    # The prefix every row shares (the skill's), minus its last token: the first plan token
    # is predicted from a row's own last prompt token, never from the shared part.
    first = rows[0][0]
    shared = min(next((k for k in range(len(r[0])) if k >= len(first) or r[0][k] != first[k]), len(r[0]))
                 for r in rows)
    shared = max(0, min(shared, min(n for _, n in rows) - 1)) if args.share_prefix else 0
    print(f"{shared} prefix tokens shared by every example", flush=True)

    def compute():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16)

    def val_loss():
        with torch.no_grad(), compute():
            return sum(batch_loss(body, val_head, val[i : i + 16], pad, shared).item() * len(val[i : i + 16])
                       for i in range(0, len(val), 16)) / len(val)

    params = [p for p in peft_model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    warm = max(1, args.steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps)))

    if args.check_shared:
        with torch.no_grad(), compute():
            b = val[:8]
            a, c = batch_loss(body, val_head, b, pad), batch_loss(body, val_head, b, pad, shared)
        print(f"plain {a.item():.6f} shared {c.item():.6f}")
        return 0 if abs(a.item() - c.item()) < 1e-3 * max(1.0, abs(a.item())) else 1
    v0 = val_loss()
    print(f"held-out loss before: {v0:.3f} ({len(train)} train / {len(val)} validation examples)", flush=True)
    t_train = time.time()
    order = []
    peft_model.train()
    for step in range(args.steps):
        if not order:
            order = batches(train, args.batch, rng)
        batch = [train[i] for i in order.pop()]
        with compute():
            loss = batch_loss(body, head, batch, pad, shared)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 10 == 0 or step == args.steps - 1:
            done = time.time() - t_train
            left = done / (step + 1) * (args.steps - step - 1)
            bar = "#" * (20 * (step + 1) // args.steps)
            print(f"[{bar:<20}] step {step + 1}/{args.steps} loss {loss.item():.3f} "
                  f"({done:.0f} s, about {left:.0f} s left)", flush=True)
    train_s = time.time() - t_train
    peft_model.eval()
    v1 = val_loss()
    print(f"held-out loss after: {v1:.3f}; training took {train_s:.0f} s", flush=True)

    write_gguf(peft_model, model.config, args.alpha, out)
    if args.peft_out:
        peft_model.save_pretrained(str(args.peft_out))
    report = {"steps": args.steps, "batch": args.batch, "rank": args.rank, "alpha": args.alpha, "lr": args.lr,
              "train_seconds": round(train_s, 1), "val_loss_before": round(v0, 4), "val_loss_after": round(v1, 4),
              "examples": len(train), "adapter_bytes": out.stat().st_size, "threads": args.threads,
              "precision": "bf16" if bf16 else "fp32", "full_head": args.full_head}
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
