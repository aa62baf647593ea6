#!/usr/bin/env python3
"""torch_capture.py: the q, k, v a PyTorch model makes, written for attnbench.

Three lines around one forward pass of your model:

    from torch_capture import capture
    with capture(model, "out/"):
        model(input_ids)

write, for the attention call number L of that forward (L = 0, 1, ...):

    out/layerL/q.npy, k.npy, v.npy   operator form, float32 [heads, n, d_head]
                                     (k, v may have fewer heads: grouped K/V)
    out/layerL/layer/                layer form, where the module has separate
                                     Q/K/V projections: x.npy [n, d_model],
                                     wq.npy, wk.npy, wv.npy [heads, d_model, d_head]
    out/layerL/check/                what the model itself computed, to verify
                                     the capture against
    out/capture.txt                  sizes, per-layer logit std and entropy, and
                                     where each layer's tensors came from

Each directory is an `attnbench run --input DIR`. How the tensors are found:
  (a) torch.nn.functional.scaled_dot_product_attention (PyTorch >= 2, how
      current Hugging Face models compute attention) is wrapped for the
      duration: its q, k, v are post-rotary, exactly what the operator saw;
  (b) nn.MultiheadAttention modules: q, k, v from in_proj_weight and the inputs;
  (c) modules with Linear children named q_proj/k_proj/v_proj (or query/key/
      value, or wq/wk/wv): their input is x and their weights give the layer
      form; with no SDPA call inside, their outputs are the operator form
      (before any rotary embedding the model applies after them).
Caveats: batch element 0 only (batch=...); biases are not in the layer form
(they are saved as bq/bk/bv.npy beside it and noted); the layer form is the
projection before rotary embeddings, so it runs the model's attention without
them; a score scale other than 1/sqrt(d_head) is folded into q; masks other
than causal or none (padding, ALiBi biases) are noted, not reproduced.

`python3 scripts/torch_capture.py --demo OUT` builds two small models (an
nn.TransformerEncoderLayer stack, and a custom rotary GQA model with
q_proj/k_proj/v_proj and SDPA), runs each once and writes OUT/mha, OUT/rope.
"""
import argparse
import inspect
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PROJECTION_NAMES = (("q_proj", "k_proj", "v_proj"), ("query", "key", "value"), ("wq", "wk", "wv"))
HEAD_ATTRS = ("num_heads", "n_heads", "num_attention_heads", "n_head")
KV_HEAD_ATTRS = ("num_key_value_heads", "num_kv_heads", "n_kv_heads", "n_kv_head")
HEAD_DIM_ATTRS = ("head_dim", "d_head", "head_size", "attention_head_size")


def reference_sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                   enable_gqa=False):
    """scaled_dot_product_attention in plain PyTorch (no dropout): the demo
    installs it where PyTorch < 2 lacks one, so the SDPA route runs there too."""
    d, nq, nk = query.shape[-1], query.shape[-2], key.shape[-2]
    if enable_gqa and key.shape[-3] != query.shape[-3]:
        rep = query.shape[-3] // key.shape[-3]
        key, value = key.repeat_interleave(rep, -3), value.repeat_interleave(rep, -3)
    s = query @ key.transpose(-2, -1) * (scale if scale is not None else 1 / math.sqrt(d))
    if is_causal:
        s = s.masked_fill(~torch.ones(nq, nk, dtype=torch.bool, device=s.device).tril(), float("-inf"))
    if attn_mask is not None:
        s = s.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool else s + attn_mask
    return torch.softmax(s, -1) @ value


def _f32(t):
    return np.ascontiguousarray(t.detach().to("cpu", torch.float32).numpy())


def _mask_causality(mask, true_blocks, batch):
    """True (causal), False (none) or None (not representable), and a note"""
    if mask is None:
        return False, None
    m = mask.detach()
    if m.dim() == 4 and m.shape[0] > 1:
        m = m[batch]
    m = m.reshape(-1, *m.shape[-2:])
    if any(not torch.equal(m[0], m[i]) for i in range(1, m.shape[0])):
        return None, "the attention mask differs between heads: not reproduced"
    m = m[0]
    if m.dtype == torch.bool:
        allowed = ~m if true_blocks else m
    else:
        blocked = m <= -1e4
        if (m[~blocked] != 0).any():
            return None, "the attention mask adds biases (not only 0 / -inf): not reproduced"
        allowed = ~blocked
    if bool(allowed.all()):
        return False, None
    if torch.equal(allowed, torch.ones_like(allowed).tril()):
        return True, None
    return None, "the attention mask is neither causal nor full (padding?): not reproduced"


def _attr(module, names):
    for a in names:
        v = getattr(module, a, None)
        if isinstance(v, int) and v > 0:
            return v
    return None


def attention_stats(q, k, causal):
    """std of q.k/sqrt(d) over the visible pairs and mean row entropy (nats), float64"""
    H, n, d = q.shape
    k = k.repeat_interleave(H // k.shape[0], 0)
    vis = torch.ones(n, k.shape[1], dtype=torch.bool)
    if causal:
        vis = vis.tril()
    total, total2, pairs, ent = 0.0, 0.0, 0, 0.0
    for h in range(H):
        s = q[h].double() @ k[h].double().T / math.sqrt(d)
        vals = s[vis]
        total += float(vals.sum()); total2 += float((vals * vals).sum()); pairs += vals.numel()
        p = torch.softmax(s.masked_fill(~vis, float("-inf")), -1)
        ent += float(-(p * torch.log(p.clamp_min(1e-300))).sum(-1).mean())
    mean = total / pairs
    return math.sqrt(max(total2 / pairs - mean * mean, 0.0)), ent / H


class _Site:
    """one attention call: where its tensors came from and what they are"""

    def __init__(self, module_name, source):
        self.module, self.source = module_name, source
        self.q = self.k = self.v = None      # [heads, n, d], k/v [kv_heads, n, d]
        self.causal, self.notes = False, []
        self.layer = None                    # dict x, wq, wk, wv (+ bq, bk, bv)
        self.layer_kv_heads = None           # the model's K/V heads behind the layer form's wk, wv
        self.check = {}                      # name -> tensor, written to check/
        self.proj = {}                       # role -> (input, output) of q/k/v projections
        self.sdpa = []                       # the SDPA calls made inside this module


class capture:
    """with capture(model, "out/"): model(input_ids)  -- see the module docstring"""

    def __init__(self, model, out, batch=0, layer_form=True, quiet=False):
        self.model, self.out, self.batch, self.layer_form, self.quiet = model, out, batch, layer_form, quiet
        self.sites, self.stack, self.undo, self.mha_names = [], [], [], []

    # ---- entering and leaving ------------------------------------------------------
    def __enter__(self):
        for name, m in self.model.named_modules():
            name = name or "(model)"  # the model itself is an attention module
            if isinstance(m, nn.MultiheadAttention):
                self.mha_names.append(name)
                self._wrap_mha(name, m)
                continue
            for roles in PROJECTION_NAMES:
                kids = [getattr(m, r, None) for r in roles]
                if all(isinstance(c, nn.Linear) for c in kids):
                    self._hook_projections(name, m, kids)
                    break
        sdpa = getattr(F, "scaled_dot_product_attention", None)
        if sdpa is not None:
            def wrapped(*args, **kwargs):
                out = sdpa(*args, **kwargs)
                self._record_sdpa(args, kwargs, out)
                return out
            F.scaled_dot_product_attention = wrapped
            self.undo.append(lambda: setattr(F, "scaled_dot_product_attention", sdpa))
        mha = getattr(torch.backends, "mha", None)  # the fast path skips nn.MultiheadAttention.forward
        if mha is not None and hasattr(mha, "set_fastpath_enabled"):
            was = mha.get_fastpath_enabled()
            mha.set_fastpath_enabled(False)
            self.undo.append(lambda: mha.set_fastpath_enabled(was))
        return self

    def __exit__(self, exc_type, exc, tb):
        for u in reversed(self.undo):
            u()
        self.undo = []
        if exc_type is None:
            self.write()
        return False

    # ---- (b) nn.MultiheadAttention ---------------------------------------------------
    def _wrap_mha(self, name, m):
        orig, had = m.forward, "forward" in m.__dict__
        sig = inspect.signature(type(m).forward)

        def forward(*args, **kwargs):
            site = _Site(name, "nn.MultiheadAttention")
            self.stack.append(site)
            try:
                out = orig(*args, **kwargs)
            finally:
                self.stack.pop()
            bound = sig.bind(m, *args, **kwargs)
            bound.apply_defaults()
            with torch.no_grad():
                self._record_mha(m, site, bound.arguments, out)
            self.sites.append(site)
            return out
        m.forward = forward
        self.undo.append(lambda: setattr(m, "forward", orig) if had else m.__dict__.pop("forward", None))

    def _record_mha(self, m, site, a, out):
        b, H, E = self.batch, m.num_heads, m.embed_dim
        d = E // H
        pick = lambda t: t if t.dim() == 2 else (t[b] if m.batch_first else t[:, b])  # -> [n, E]
        xq, xk, xv = pick(a["query"]), pick(a["key"]), pick(a["value"])
        if m._qkv_same_embed_dim:
            wq, wk, wv = m.in_proj_weight.chunk(3)
        else:
            wq, wk, wv = m.q_proj_weight, m.k_proj_weight, m.v_proj_weight
        bq = bk = bv = None
        if m.in_proj_bias is not None:
            bq, bk, bv = m.in_proj_bias.chunk(3)
        heads = lambda t: t.reshape(t.shape[0], H, d).transpose(0, 1)
        site.q, site.k, site.v = heads(F.linear(xq, wq, bq)), heads(F.linear(xk, wk, bk)), heads(F.linear(xv, wv, bv))
        site.causal, note = _mask_causality(a.get("attn_mask"), True, b)
        if note:
            site.notes.append(note)
        if site.causal is False and a.get("is_causal"):
            site.causal = True
        kpm = a.get("key_padding_mask")
        if kpm is not None and bool(((kpm[b] if kpm.dim() == 2 else kpm) != 0).any()):  # bool: True hides
            site.notes.append("key_padding_mask hides keys of this batch element: not reproduced")
        if m.bias_k is not None or m.add_zero_attn:
            site.notes.append("add_bias_kv / add_zero_attn add key positions: not reproduced")
        if self.layer_form:
            if xq is xk and xk is xv or (torch.equal(xq, xk) and torch.equal(xk, xv)):
                per_head = lambda w: w.reshape(H, d, -1).transpose(1, 2)  # (H*d, E) -> (H, E, d)
                site.layer = dict(x=xq, wq=per_head(wq), wk=per_head(wk), wv=per_head(wv))
                if bq is not None:
                    site.layer.update(bq=bq.reshape(H, d), bk=bk.reshape(H, d), bv=bv.reshape(H, d))
            else:
                site.notes.append("cross-attention (query is not key and value): no layer form")
        y = out[0] if isinstance(out, tuple) else out
        site.check = dict(module_out=pick(y), wo=m.out_proj.weight)
        if m.out_proj.bias is not None:
            site.check["bo"] = m.out_proj.bias

    # ---- (c) named Q/K/V projections ---------------------------------------------------
    def _hook_projections(self, name, m, kids):
        def pre(_mod, _inp):
            self.stack.append(_Site(name, "projections"))

        def post(_mod, _inp, _out):
            site = self.stack.pop()
            with torch.no_grad():
                self._finish_projections(m, kids, site)
            self.sites.append(site)
        handles = [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
        for role, lin in zip("qkv", kids):
            def record(_mod, inp, out, role=role):
                if self.stack and self.stack[-1].module == name:
                    self.stack[-1].proj[role] = (inp[0], out)
            handles.append(lin.register_forward_hook(record))
        self.undo.extend(h.remove for h in handles)

    def _finish_projections(self, m, kids, site):
        if len(site.sdpa) == 1:
            site.source = "sdpa"
            site.q, site.k, site.v, site.causal, notes, site.check = site.sdpa[0]
            site.notes.extend(notes)
        elif len(site.sdpa) > 1:
            site.notes.append("%d SDPA calls inside one module: operator form from the projections" % len(site.sdpa))
        if set(site.proj) != set("qkv"):
            site.notes.append("the Q/K/V projections were not all called: no layer form")
            return
        b = self.batch
        rows = lambda t: t if t.dim() == 2 else t.reshape(-1, t.shape[-2], t.shape[-1])[b]  # -> [n, features]
        (xq, oq), (xk, ok), (xv, ov) = (site.proj[r] for r in "qkv")
        d = site.q.shape[-1] if site.q is not None else _attr(m, HEAD_DIM_ATTRS)
        if d is None and _attr(m, HEAD_ATTRS):
            d = kids[0].out_features // _attr(m, HEAD_ATTRS)
        if not d or kids[0].out_features % d or kids[1].out_features % d or kids[2].out_features != kids[1].out_features:
            site.notes.append("head size unknown or not dividing the projections: no layer or projection form")
            return
        H, G = kids[0].out_features // d, kids[1].out_features // d
        if H % G:
            site.notes.append("%d query heads, %d K/V heads: no layer form" % (H, G))
            return
        if site.q is None:  # operator form from the projections themselves
            heads = lambda t, h: rows(t).reshape(-1, h, d).transpose(0, 1)
            site.q, site.k, site.v = heads(oq, H), heads(ok, G), heads(ov, G)
            site.causal = None
            site.notes.append("q, k: the projections' outputs, before any rotary embedding the model applies; causal unknown")
        if not self.layer_form:
            return
        x = rows(xq)
        if not (torch.equal(x, rows(xk)) and torch.equal(x, rows(xv))):
            site.notes.append("cross-attention (Q and K/V projections read different inputs): no layer form")
            return
        # Linear weight (out, in), out = head * d + i  ->  (heads, in, d); K/V
        # heads repeated for their group, so --projection gqa --kv-heads G
        # (the group mean) gives back the model's own K/V weights
        per_head = lambda w, h: w.reshape(h, d, -1).transpose(1, 2).repeat_interleave(H // h, 0)
        site.layer = dict(x=x, wq=per_head(kids[0].weight, H), wk=per_head(kids[1].weight, G),
                          wv=per_head(kids[2].weight, G))
        for r, lin, h in (("q", kids[0], H), ("k", kids[1], G), ("v", kids[2], G)):
            if lin.bias is not None:
                site.layer["b" + r] = lin.bias.reshape(h, d).repeat_interleave(H // h, 0)
        site.layer_kv_heads = G

    # ---- (a) scaled_dot_product_attention ------------------------------------------------
    def _record_sdpa(self, args, kwargs, out):
        names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")
        a = dict(zip(names, args))
        a.update(kwargs)
        if self.stack and self.stack[-1].source == "nn.MultiheadAttention":
            return  # recorded from the module itself
        q, k, v = a["query"], a["key"], a["value"]
        notes = []
        if q.dim() < 3 or q.dim() > 4:
            return
        b = self.batch if q.dim() == 4 else None
        pick = lambda t: (t if b is None else t[min(b, t.shape[0] - 1)]).detach()  # a batch of 1 broadcasts
        q, k, v, o = pick(q), pick(k), pick(v), pick(out)
        d = q.shape[-1]
        scale = a.get("scale")
        if scale is not None and abs(scale * math.sqrt(d) - 1) > 1e-6:
            q = q * (scale * math.sqrt(d))
            notes.append("score scale %g folded into q (attnbench uses 1/sqrt(d_head))" % scale)
        if a.get("dropout_p", 0.0):
            notes.append("dropout_p %g during capture (training mode?)" % a["dropout_p"])
        causal, note = _mask_causality(a.get("attn_mask"), False, self.batch)
        if note:
            notes.append(note)
        if causal is False and a.get("is_causal"):
            causal = True
        record = (q, k, v, causal, notes, dict(attn_out=o))
        if self.stack:
            self.stack[-1].sdpa.append(record)
        else:
            site = _Site("-", "sdpa")  # outside any module this capture knows
            site.q, site.k, site.v, site.causal, site.notes, site.check = record
            self.sites.append(site)

    # ---- writing -------------------------------------------------------------------------
    def write(self):
        os.makedirs(self.out, exist_ok=True)
        lines, stats = [], []
        for i, s in enumerate(self.sites):
            base = os.path.join(self.out, "layer%d" % i)
            os.makedirs(os.path.join(base, "check"), exist_ok=True)
            for name, t in (("q", s.q), ("k", s.k), ("v", s.v)):
                np.save(os.path.join(base, name + ".npy"), _f32(t))
            for name, t in s.check.items():
                np.save(os.path.join(base, "check", name + ".npy"), _f32(t))
            if s.q.shape[1] == s.k.shape[1]:
                stats.append(attention_stats(s.q, s.k, bool(s.causal)))
            else:
                stats.append((0.0, 0.0))
                s.notes.append("%d queries against %d keys (a cached decoding step? cross-attention?): "
                               "attnbench run needs as many keys as queries" % (s.q.shape[1], s.k.shape[1]))
            form, G = "none", 0
            if s.layer is not None:
                G = s.layer_kv_heads or s.q.shape[0]
                form = "layer%d/layer" % i
                if G < s.q.shape[0]:
                    s.notes.append("layer form: the model's %d K/V heads, each repeated for its group; "
                                   "--projection gqa --kv-heads %d gives back the model's own" % (G, G))
                os.makedirs(os.path.join(base, "layer"), exist_ok=True)
                for name, t in s.layer.items():
                    np.save(os.path.join(base, "layer", name + ".npy"), _f32(t))
                if any(bool((s.layer[b] != 0).any()) for b in ("bq", "bk", "bv") if b in s.layer):
                    s.notes.append("the projections have biases: the layer form has none (saved as layer/b*.npy)")
                if s.source == "sdpa":
                    s.notes.append("layer form is before the rotary embedding, if the model applies one")
            H, n, d = s.q.shape
            lines.append("site %d module %s source %s causal %s heads %d kv_heads %d d_head %d n %d layer_form %s layer_kv_heads %d"
                         % (i, s.module, s.source, {True: 1, False: 0, None: "?"}[s.causal], H, s.k.shape[0], d, n, form, G))
            lines.extend("note %d %s" % (i, t) for t in s.notes)
            if not self.quiet:
                print("layer%d: %s from %s, %d heads (%d K/V), n %d, d_head %d, causal %s, layer form %s%s"
                      % (i, s.module, s.source, H, s.k.shape[0], n, d, {True: "yes", False: "no", None: "unknown"}[s.causal],
                         form, "".join("\n  note: " + t for t in s.notes)))
        self._write_summary(lines, stats)
        seen = {s.module for s in self.sites}
        for name in self.mha_names:
            if name not in seen:
                print("torch_capture: nn.MultiheadAttention %s never ran its forward (the fast path of "
                      "nn.TransformerEncoderLayer in eval mode under torch.no_grad() on PyTorch < 2.1 skips it; "
                      "capture with gradients enabled)" % name, file=sys.stderr)
        if not self.sites and not self.mha_names:
            print("torch_capture: no attention call was seen (no nn.MultiheadAttention, q_proj/k_proj/v_proj "
                  "modules or scaled_dot_product_attention calls ran)", file=sys.stderr)

    def _write_summary(self, lines, stats):
        with open(os.path.join(self.out, "capture.txt"), "w") as f:
            f.write("# torch_capture: q, k, v of a PyTorch model (scripts/torch_capture.py)\n")
            f.write("model %s\ntorch %s\nbatch %d\n" % (type(self.model).__name__, torch.__version__, self.batch))
            if self.sites:
                s = self.sites[0]
                H, n, d = s.q.shape
                same = all(t.q.shape == s.q.shape and t.k.shape[0] == s.k.shape[0] for t in self.sites)
                f.write("# dim = heads * d_head of layer 0%s; hidden_dim, vocab_size, seq_len unknown (0)\n"
                        % ("" if same else " (layers differ in shape)"))
                f.write("config dim %d hidden_dim 0 n_layers %d n_heads %d n_kv_heads %d vocab_size 0 seq_len 0 "
                        "shared_classifier 0\n" % (H * d, len(self.sites), H, s.k.shape[0]))
                f.write("n %d\n" % n)
            f.write("# per layer: std of q.k/sqrt(head_size) over causal pairs; mean causal attention row entropy (nats)\n")
            for i, (sd, ent) in enumerate(stats):
                f.write("layer %d logit_std %.6f entropy %.6f\n" % (i, sd, ent))
            f.write("# per layer: the module, where q, k, v came from, the mask, the shapes, the layer form directory\n")
            f.write("".join(line + "\n" for line in lines))


# ---- the demo ------------------------------------------------------------------------------

class TinyEncoderLM(nn.Module):
    """tokens -> embedding -> nn.TransformerEncoderLayer x layers (causal) -> logits"""

    def __init__(self, vocab=64, dim=32, heads=4, layers=2):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.blocks = nn.ModuleList(nn.TransformerEncoderLayer(dim, heads, 2 * dim, dropout=0.0, batch_first=True)
                                    for _ in range(layers))
        self.head = nn.Linear(dim, vocab)

    def forward(self, tokens):
        n = tokens.shape[1]
        mask = torch.triu(torch.full((n, n), float("-inf")), 1)
        x = self.emb(tokens)
        for blk in self.blocks:
            x = blk(x, src_mask=mask)
        return self.head(x)


def rotate_half(x):
    a, b = x.chunk(2, -1)
    return torch.cat((-b, a), -1)


class RopeAttention(nn.Module):
    """grouped-query attention with rotary embeddings (Hugging Face Llama's layout)"""

    def __init__(self, dim, heads, kv_heads):
        super().__init__()
        self.num_heads, self.num_key_value_heads, self.head_dim = heads, kv_heads, dim // heads
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(dim, kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(dim, dim, bias=False)

    def forward(self, x, gqa_sdpa):
        b, n, _ = x.shape
        H, G, d = self.num_heads, self.num_key_value_heads, self.head_dim
        q = self.q_proj(x).view(b, n, H, d).transpose(1, 2)
        k = self.k_proj(x).view(b, n, G, d).transpose(1, 2)
        v = self.v_proj(x).view(b, n, G, d).transpose(1, 2)
        ang = torch.arange(n)[:, None] * 10000.0 ** (-torch.arange(0, d, 2) / d)[None]
        cos, sin = torch.cat((ang, ang), -1).cos(), torch.cat((ang, ang), -1).sin()
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        sdpa = getattr(F, "scaled_dot_product_attention", None)
        if sdpa is not None and gqa_sdpa:
            o = sdpa(q, k, v, is_causal=True, enable_gqa=True)
        else:
            k, v = k.repeat_interleave(H // G, 1), v.repeat_interleave(H // G, 1)
            o = sdpa(q, k, v, is_causal=True) if sdpa is not None else reference_sdpa(q, k, v, is_causal=True)
        return self.o_proj(o.transpose(1, 2).reshape(b, n, H * d))


class TinyRopeLM(nn.Module):
    """pre-norm decoder: x += attn(norm(x)); x += mlp(norm(x)); layer 1 hands
    SDPA grouped K/V (enable_gqa) where it takes them, layer 0 repeats them"""

    def __init__(self, vocab=64, dim=64, heads=4, kv_heads=2, layers=2):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(2 * layers))
        self.attn = nn.ModuleList(RopeAttention(dim, heads, kv_heads) for _ in range(layers))
        self.mlp = nn.ModuleList(nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
                                 for _ in range(layers))
        self.gqa_sdpa = _sdpa_takes_gqa()

    def forward(self, tokens):
        x = self.emb(tokens)
        for i, (attn, mlp) in enumerate(zip(self.attn, self.mlp)):
            x = x + attn(self.norms[2 * i](x), self.gqa_sdpa and i == 1)
            x = x + mlp(self.norms[2 * i + 1](x))
        return x


def _sdpa_takes_gqa():
    sdpa = getattr(F, "scaled_dot_product_attention", None)
    try:
        t = torch.zeros(1, 2, 1, 2)
        sdpa(t, t[:, :1], t[:, :1], enable_gqa=True)
        return True
    except (TypeError, RuntimeError):
        return False


def demo(out, n=32, seed=0):
    if not hasattr(F, "scaled_dot_product_attention"):
        F.scaled_dot_product_attention = reference_sdpa  # PyTorch < 2: so the SDPA route runs here too
        print("torch %s has no scaled_dot_product_attention: the demo uses torch_capture.reference_sdpa"
              % torch.__version__)
    torch.manual_seed(seed)
    for name, model in (("mha", TinyEncoderLM()), ("rope", TinyRopeLM())):
        model.eval()
        with torch.no_grad():  # peaked attention, as trained models have (random init is nearly flat)
            for m in model.modules():
                if isinstance(m, nn.MultiheadAttention):
                    m.in_proj_weight[:2 * m.embed_dim] *= 3
                    m.in_proj_bias.normal_(0, 0.1)  # PyTorch starts them at 0; trained ones are not
                elif isinstance(m, RopeAttention):
                    m.q_proj.weight.mul_(3)
                    m.k_proj.weight.mul_(3)
        tokens = torch.randint(0, 64, (2, n))
        # gradients on: on PyTorch 2.0 (no set_fastpath_enabled) an eval-mode
        # nn.TransformerEncoderLayer without them takes the fast path, which
        # skips nn.MultiheadAttention.forward
        with capture(model, os.path.join(out, name)):
            model(tokens)
        print("-> %s" % os.path.join(out, name))


DEMO_MAX_N = 4096  # the demo's models hold (n, n) masks and scores: 4096 is already 512 MiB of scores


class OneLineParser(argparse.ArgumentParser):
    """bad input is one line on stderr and exit 2, as in attnbench (argparse
    prints the usage line above it)"""

    def error(self, message):
        sys.stderr.write("torch_capture.py: %s\n" % message)
        sys.exit(2)


def _make_out_dir(path):
    """makes PATH (and its parents) a directory: None, or why it cannot be,
    naming the kind of file in the way"""
    import stat
    try:
        os.makedirs(path, exist_ok=True)
        return None
    except OSError as e:
        head = path
        while head and not os.path.lexists(head):
            head = os.path.dirname(head.rstrip("/"))
        try:
            mode = os.stat(head).st_mode if head else stat.S_IFDIR
        except OSError:
            mode = stat.S_IFDIR
        if stat.S_ISDIR(mode):
            return e.strerror
        kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a character device" if stat.S_ISCHR(mode)
                else "a regular file" if stat.S_ISREG(mode) else "another kind of file")
        return "not a directory (%s%s)" % ("" if head == path else head + " is ", kind)


def main(argv=None):
    p = OneLineParser(description=__doc__.split("\n\n")[0],
                      epilog="As a library: see the docstring (python3 -c 'import torch_capture; "
                             "help(torch_capture)').")
    p.add_argument("--demo", metavar="OUT", required=True,
                   help="build two small models, run one forward each and write OUT/mha and OUT/rope")
    p.add_argument("--n", type=int, default=32, help="tokens per sequence (default 32, at most %d)" % DEMO_MAX_N)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    if not 2 <= a.n <= DEMO_MAX_N:
        p.error("--n %d: must be 2..%d" % (a.n, DEMO_MAX_N))
    why = _make_out_dir(a.demo)
    if why:
        p.error("--demo %s: %s" % (a.demo, why))
    demo(a.demo, a.n, a.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
