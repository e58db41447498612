#!/usr/bin/env python3
"""Concatenate LoRA adapters (same base, same rank r, same alpha) into one of rank n*r whose
delta is the mean of theirs: scale alpha/(n r) times sum_i B_i A_i = mean_i (alpha/r) B_i A_i.

    concat_adapters.py OUT.gguf A.gguf B.gguf ...   (in the training venv: needs gguf, numpy)

An experiment (BENCHMARKS.md, issue 12: "averaging the adapters of several seeds"); its
result is not shipped."""
import sys
import numpy as np
import gguf

out, ins = sys.argv[1], sys.argv[2:]
readers = [gguf.GGUFReader(p) for p in ins]
r0 = readers[0]
w = gguf.GGUFWriter(out, arch=str(bytes(r0.fields["general.architecture"].parts[-1]), "utf-8"))
for k, f in r0.fields.items():
    if k.startswith("GGUF.") or k == "general.architecture":
        continue
    if k == "general.type" or k == "adapter.type":
        w.add_string(k, str(bytes(f.parts[-1]), "utf-8"))
    elif k == "adapter.lora.alpha":
        w.add_float32(k, float(f.parts[-1][0]))
    else:
        print("skip field", k, file=sys.stderr)
tensors = [{t.name: t for t in r.tensors} for r in readers]
for t in r0.tensors:
    parts = [np.array(ts[t.name].data) for ts in tensors]
    if t.name.endswith(".lora_a"):
        cat = np.concatenate(parts, axis=0)
    else:
        cat = np.concatenate(parts, axis=1)
    w.add_tensor(t.name, cat.astype(np.float16))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
print("wrote", out, "from", len(ins))
