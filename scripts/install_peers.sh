#!/usr/bin/env bash
# Install the peer SNN libraries used for cross-checks and benchmarks
# (SpikingJelly, snnTorch, Norse, Sinabs, plus NIR / nirtorch), and Triton
# (for spikesmith.kernels.gpu, whose tests run in Triton's interpreter,
# TRITON_INTERPRET=1, where no GPU exists), into the CURRENTLY ACTIVE Python
# environment, without touching torch.
#
#   * peers, nir/nirtorch and triton go in with `pip install --no-deps` (their metadata
#     asks for torch / torchvision / torchaudio / tensorboard / samna ...,
#     which would pull a multi-GB CUDA torch);
#   * only the small helpers they really need at import time are installed,
#     resolved under a constraint file that pins torch to the installed build
#     and forbids torchvision / torchaudio;
#   * a CPU smoke test runs at the end, and the script exits non-zero if the
#     torch version changed.
#
# Idempotent: re-running is a no-op once everything is at the pinned versions.
#
# Usage:   bash scripts/install_peers.sh
# Env:     PYTHON=/path/to/python   interpreter to install into
#                                   (default: `python` of the active env)
#          PEERS_SKIP_VERIFY=1      skip the smoke test
# See docs/peers.md for what each import needs and the semantics notes.
set -euo pipefail

PY="${PYTHON:-python}"
if ! command -v "$PY" >/dev/null 2>&1; then
    echo "install_peers: interpreter '$PY' not found (activate the venv or set PYTHON=...)" >&2
    exit 2
fi

# --- pinned versions (latest on PyPI when this was written) -----------------
PEERS=(
    "spikingjelly==2.0.0"   # needs Python >= 3.11
    "snntorch==1.0.0"
    "norse==1.1.0"
    "sinabs==3.1.3"
)
NIR_PKGS=(
    "nir==1.0.8"            # needs h5py, numpy
    "nirtorch==2.6"         # needs nir, torch
)
# Triton needs nothing else at import time; wheels exist for Linux only (elsewhere
# the Triton tests skip).
TRITON="triton==3.9.0"
# Import-time helpers (installed WITH their own deps, torch held fixed):
#   loguru     <- spikingjelly (spikingjelly.logger)
#   h5py       <- nir (nir.serialization) <- norse, sinabs
#   pbr        <- sinabs/__init__.py (pbr.version)
#   matplotlib <- sinabs.network (`import pylab`); norse imports its plot
#                 utilities whenever matplotlib is importable
# Shared with the project's own extras, so floors instead of exact pins.
HELPERS=(
    "loguru==0.7.3"
    "pbr==7.1.3"
    "h5py>=3.8"
    "matplotlib>=3.6"
)

PIP=("$PY" -m pip --disable-pip-version-check --no-input)

torch_version() {
    "$PY" -c 'import importlib.metadata as m; print(m.version("torch"))' 2>/dev/null || true
}

echo "install_peers: python = $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])')"

TORCH_BEFORE="$(torch_version)"
if [[ -z "$TORCH_BEFORE" ]]; then
    echo "install_peers: torch is not installed in this environment; install the CPU torch first" >&2
    exit 2
fi
echo "install_peers: torch = $TORCH_BEFORE (must stay unchanged)"

if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    echo "install_peers: spikingjelly 2.0.0 requires Python >= 3.11" >&2
    exit 2
fi

CONSTRAINTS="$(mktemp)"
trap 'rm -f "$CONSTRAINTS"' EXIT
{
    echo "torch==${TORCH_BEFORE}"
    echo "torchvision<0"   # never satisfiable: fail loudly instead of installing it
    echo "torchaudio<0"
} >"$CONSTRAINTS"

echo "install_peers: helpers (with deps, torch pinned): ${HELPERS[*]}"
"${PIP[@]}" install -c "$CONSTRAINTS" "${HELPERS[@]}"

echo "install_peers: NIR (--no-deps): ${NIR_PKGS[*]}"
"${PIP[@]}" install --no-deps "${NIR_PKGS[@]}"

echo "install_peers: peers (--no-deps): ${PEERS[*]}"
"${PIP[@]}" install --no-deps "${PEERS[@]}"

if [[ "$(uname -s)" == "Linux" ]]; then
    echo "install_peers: triton (--no-deps): $TRITON"
    "${PIP[@]}" install --no-deps "$TRITON"
else
    echo "install_peers: skipping $TRITON (no wheels for $(uname -s)); the Triton kernel tests will skip"
fi

echo "install_peers: installed versions:"
"$PY" - <<'EOF'
import importlib.metadata as m
for name in ("torch", "spikingjelly", "snntorch", "norse", "sinabs", "nir",
             "nirtorch", "loguru", "pbr", "h5py", "matplotlib", "numpy", "triton"):
    try:
        print(f"  {name:13s} {m.version(name)}")
    except m.PackageNotFoundError:
        print(f"  {name:13s} (missing)")
EOF

if [[ "${PEERS_SKIP_VERIFY:-0}" != "1" ]]; then
    echo "install_peers: CPU smoke test"
    "$PY" - <<'EOF'
import sys
import warnings
warnings.simplefilter("ignore")
import torch

T, N = 8, 4
torch.manual_seed(0)

from spikingjelly.activation_based import neuron, surrogate, functional, layer  # noqa: F401
lif = neuron.LIFNode(tau=2.0, step_mode="m")
x = (torch.rand(T, N) * 3).requires_grad_()
lif(x).sum().backward()
assert x.grad is not None and torch.isfinite(x.grad).all()
functional.reset_net(lif)
print("  spikingjelly LIFNode(step_mode='m') fwd+bwd ok")

import snntorch as snn
leaky = snn.Leaky(beta=0.5)
x = (torch.rand(N) * 2).requires_grad_()
spk, mem = leaky(x, leaky.init_leaky())
(spk.sum() + mem.sum()).backward()
assert x.grad is not None
print("  snntorch Leaky one step fwd+bwd ok")

import norse.torch as norse
z, _ = norse.LIFCell()(torch.rand(N))
x = (torch.rand(T, N) * 5).requires_grad_()
z, _ = norse.LIF()(x)
z.sum().backward()
assert z.shape == (T, N) and x.grad is not None
print("  norse LIFCell / LIF fwd+bwd ok")

import sinabs.layers as sl
x = (torch.rand(2, T, N) * 2).requires_grad_()
sl.IAF()(x).sum().backward()
assert x.grad is not None
print("  sinabs IAF fwd+bwd ok")

import nir, nirtorch  # noqa: F401
print("  nir / nirtorch import ok")

for bad in ("torchvision", "torchaudio"):
    assert bad not in sys.modules, f"{bad} got imported"
EOF
    if "$PY" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("triton") is None)'; then
        echo "install_peers: Triton interpreter smoke test (TRITON_INTERPRET=1, CPU tensors)"
        TRITON_INTERPRET=1 "$PY" - <<'EOF'
import torch
import triton
import triton.language as tl


@triton.jit
def add_one(x, y, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(y + offs, tl.load(x + offs, mask=mask) + 1.0, mask=mask)


x = torch.rand(100)
y = torch.empty_like(x)
add_one[(triton.cdiv(100, 32),)](x, y, 100, BLOCK=32)
assert torch.equal(y, x + 1)
print(f"  triton {triton.__version__} interpreter ok")
EOF
    fi
fi

TORCH_AFTER="$(torch_version)"
if [[ "$TORCH_AFTER" != "$TORCH_BEFORE" ]]; then
    echo "install_peers: ERROR torch changed: $TORCH_BEFORE -> ${TORCH_AFTER:-<missing>}" >&2
    exit 3
fi
echo "install_peers: done; torch unchanged ($TORCH_AFTER)"
