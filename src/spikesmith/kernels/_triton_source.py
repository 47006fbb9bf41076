"""The Triton source of one charge kind's fused kernels, generated from its table entry
(``ChargeKind.triton``) and, for the backward, one surrogate's ``KernelCode.triton``.

The generated functions are plain Python (``gpu._kernel`` wraps them for the compiler or the
interpreter). One program per block of neurons loops over T with the state in registers:
    forward:  writes the spikes, and the state every K steps (``CKPT``).
    backward: for each chunk, last first, recomputes H (and the states the kind reads before each
              step, ``ChargeKind.prev``) from the kept state and the saved input into scratch
              buffers of K x N floats, then makes one pass back over the chunk.
The maths and its order are those of ``_cpp_source``. The generator's own names start with ``_``; the
code calls only Triton builtins (``tl.full``, not ``tl.zeros``): the helpers of
``triton.language.standard`` are jit functions bound to the interpreter or the compiler once, when
triton is imported, and would tie these kernels to the mode of that moment.
"""

from __future__ import annotations

import ast
import linecache
import re
import textwrap

from .contract import ChargeKind


def _indent(code: str, depth: int) -> str:
    return textwrap.indent(textwrap.dedent(code).strip("\n"), "    " * depth) + "\n" if code.strip() else ""


def _surrogate(code) -> str:
    """The surrogate's ``KernelCode.triton``: it reads z, p0, p1, p2 and sets g; its other names get a
    ``_sg_`` prefix so that they cannot clash with the kind's."""
    tree = ast.parse(textwrap.dedent(code.triton))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in ("z", "g", "p0", "p1", "p2", "tl"):
            node.id = f"_sg_{node.id}"
    return ast.unparse(tree)


def _lines(*parts) -> str:
    """The parts that are text, joined (a part given as ``condition and text`` may be falsy)."""
    return "".join(p for p in parts if p)


def _header(kind: ChargeKind) -> tuple[list[str], list[str]]:
    names = ["vth", "rest", *kind.params]
    constexpr = [f"S_{p}: tl.constexpr" for p in names] + ["SOFT: tl.constexpr"]
    constexpr += [f"{o}: tl.constexpr" for o in kind.options]
    return names, constexpr


def _prologue(names) -> str:
    """The first lines of every kernel: this program's block of neurons, its mask, and the parameters."""
    return ("    _offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)\n"
            "    _m = _offs < N\n"
            "    _N64 = N.to(tl.int64)\n" + _load_params(names))


def _load_params(names) -> str:
    return "".join(f"    {p} = tl.load(p_{p} + _offs * S_{p}, mask=_m, other={'1.0' if p == 'vth' else '0.0'})\n"
                   for p in names)


def _step(kind: ChargeKind, depth: int, h_store: str = "", s_store: str = "") -> str:
    """One step on the block: charge, fire, (stores), update, reset."""
    c = kind.triton
    pad = "    " * depth
    return _lines(
        _indent(c.charge, depth),
        f"{pad}th = {c.threshold}\n",
        f"{pad}_spike = (h - th) >= 0.0\n",
        f"{pad}s = tl.where(_spike, 1.0, 0.0)\n",
        h_store and f"{pad}{h_store}\n",
        s_store and f"{pad}{s_store}\n",
        _indent(c.update, depth),
        f"{pad}if SOFT:\n{pad}    v = h - th * s\n{pad}else:\n{pad}    v = tl.where(_spike, rest, h)\n",
    )


def _name(*parts: str) -> str:
    return "_".join(re.sub(r"[^0-9a-zA-Z_]", "_", p) for p in parts)


def forward_source(kind: ChargeKind) -> tuple[str, str]:
    """The forward kernel's name and source."""
    states = kind.state
    names, constexpr = _header(kind)
    args = ["x_ptr", "s_ptr", *(f"st_{s}" for s in states), *(f"p_{p}" for p in names), *(f"ck_{s}" for s in states),
            "T", "N", "K", *constexpr, "CKPT: tl.constexpr", "BLOCK: tl.constexpr"]
    name = _name("forward", kind.name)
    return name, _lines(
        f"def {name}({', '.join(args)}):\n",
        _prologue(names),
        "".join(f"    {s} = tl.load(st_{s} + _offs, mask=_m, other=0.0)\n" for s in states),
        "    _nck = (T + K - 1) // K\n",
        "    for _c in range(0, _nck):\n",
        "        _t0 = _c * K\n",
        "        _L = tl.minimum(K, T - _t0)\n",
        "        if CKPT:\n",
        "".join(f"            tl.store(ck_{s} + _c * _N64 + _offs, {s}, mask=_m)\n" for s in states),
        "        for _j in range(0, _L):\n",
        "            _row = (_t0 + _j) * _N64\n",
        "            x = tl.load(x_ptr + _row + _offs, mask=_m, other=0.0)\n",
        _step(kind, 3, s_store="tl.store(s_ptr + _row + _offs, s, mask=_m)"),
        "".join(f"    tl.store(st_{s} + _offs, {s}, mask=_m)\n" for s in states),
    )


def backward_source(kind: ChargeKind, code) -> tuple[str, str]:
    """The backward kernel's name and source, with the surrogate ``code`` inlined."""
    c = kind.triton
    states, grads = kind.state, kind.grad_params
    names, constexpr = _header(kind)
    args = ["x_ptr", "gs_ptr", "gx_ptr", *(f"gst_{s}" for s in states), *(f"gp_{p}" for p in grads),
            *(f"p_{p}" for p in names), *(f"ck_{s}" for s in states), "h_buf", *(f"pv_{s}" for s in states),
            "T", "N", "K", "p0", "p1", "p2", *constexpr, "DETACH: tl.constexpr", "GD: tl.constexpr",
            "BLOCK: tl.constexpr"]
    always = [s for s in states if kind.prev.get(s) == "always"]
    on_grad = [s for s in states if kind.prev.get(s) == "grad"]

    def block(items, fmt, depth):
        pad = "    " * depth
        return "".join(pad + fmt.format(s=s) + "\n" for s in items)

    name = _name("backward", kind.name, code.name)
    return name, _lines(
        f"def {name}({', '.join(args)}):\n",
        _prologue(names),
        block(states, "g_{s} = tl.load(gst_{s} + _offs, mask=_m, other=0.0)", 1),
        grads and "    if GD:\n" + block(grads, "d_{s} = tl.full([BLOCK], 0.0, tl.float64)", 2),
        "    _nck = (T + K - 1) // K\n",
        "    for _cc in range(0, _nck):\n",
        "        _c = _nck - 1 - _cc\n",
        "        _t0 = _c * K\n",
        "        _L = tl.minimum(K, T - _t0)\n",
        "        # recompute the chunk from its kept state: H, and the states read before each step\n",
        block(states, "{s} = tl.load(ck_{s} + _c * _N64 + _offs, mask=_m, other=0.0)", 2),
        "        for _j in range(0, _L):\n",
        "            _srow = _j * _N64\n",
        "            x = tl.load(x_ptr + (_t0 + _j) * _N64 + _offs, mask=_m, other=0.0)\n",
        block(always, "tl.store(pv_{s} + _srow + _offs, {s}, mask=_m)", 3),
        on_grad and "            if GD:\n" + block(on_grad, "tl.store(pv_{s} + _srow + _offs, {s}, mask=_m)", 4),
        _step(kind, 3, h_store="tl.store(h_buf + _srow + _offs, h, mask=_m)"),
        "        tl.debug_barrier()\n",
        "        # one pass back over the chunk\n",
        "        for _jj in range(0, _L):\n",
        "            _j = _L - 1 - _jj\n",
        "            _row = (_t0 + _j) * _N64\n",
        "            _srow = _j * _N64\n",
        "            h = tl.load(h_buf + _srow + _offs, mask=_m, other=0.0)\n",
        block(always, "{s} = tl.load(pv_{s} + _srow + _offs, mask=_m, other=0.0)", 3),
        on_grad and "            if GD:\n" + block(on_grad, "{s} = tl.load(pv_{s} + _srow + _offs, mask=_m, other=0.0)", 4),
        "            x = tl.load(x_ptr + _row + _offs, mask=_m, other=0.0)\n",
        f"            th = {c.threshold}\n",
        "            z = h - th\n",
        _indent(_surrogate(code), 3),
        "            s = tl.where(z >= 0.0, 1.0, 0.0)\n",
        "            _go = tl.load(gs_ptr + _row + _offs, mask=_m, other=0.0)\n",
        c.spike_grad and f"            _go = _go + {c.spike_grad}\n",
        "            if not DETACH:\n",
        "                if SOFT:\n",
        "                    _go = _go + g_v * (-th)\n",
        "                else:\n",
        "                    _go = _go + g_v * (rest - h)\n",
        "            gz = _go * g\n",
        "            if SOFT:\n",
        "                gh = g_v + gz\n",
        "            else:\n",
        "                gh = g_v * (1.0 - s) + gz\n",
        c.h_grad and f"            gh = gh + {c.h_grad}\n",
        "            if SOFT:\n",
        "                gth = -gz - g_v * s\n",
        "            else:\n",
        "                gth = -gz\n",
        _indent(c.backward, 3),
        "            tl.store(gx_ptr + _row + _offs, g_x, mask=_m)\n",
        "        tl.debug_barrier()\n",
        block(states, "tl.store(gst_{s} + _offs, g_{s}, mask=_m)", 1),
        grads and "    if GD:\n" + block(grads, "tl.store(gp_{s} + _offs, d_{s}, mask=_m)", 2),
    )


def compile_source(text: str, name: str, tl):
    """The function ``name`` defined by ``text``, with ``tl`` as its ``triton.language``; the text is
    put in ``linecache`` so that Triton (which reads a kernel's source with ``inspect``) finds it."""
    filename = f"<spikesmith triton {name}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = {"tl": tl}
    exec(compile(text, filename, "exec"), namespace)
    return namespace[name]
