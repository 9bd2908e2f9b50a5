"""Compile every Triton kernel of ``convtranspose.cuda`` for an NVIDIA GPU, without one.

Triton compiles ahead of time for a named target (``GPUTarget("cuda", 90, 32)``: Hopper),
with the specialisations a real launch gets (unit strides as constants, 16-divisible sizes
and pointers), so a kernel that would not compile on the GPU fails here, on any machine with
Triton's CUDA backend (Linux wheels ship it). For each kernel, dtype and precision it prints
how the tile product is computed (``wgmma`` tensor cores, ``mma``, or ``fma``), the pending
tensor-core operations the loop lets run on (``waits``: a 1 means the accumulation overlaps
the next step's loads), the asynchronous copies (pipelined loads) and the shared memory.

    PYTHONPATH=src python tools/compile_kernels.py [--arch 90]

Exit status 1 when a kernel does not compile.
"""

from __future__ import annotations

import argparse
import re
import sys

#: Arguments a real launch specialises as divisible by 16 (pointers from torch's allocator,
#: channel counts, lengths and strides of the shapes that matter) and as the constant 1
#: (the unit strides of contiguous tensors; the weight is read channels-last).
DIVISIBLE = {"x_ptr", "w_ptr", "b_ptr", "y_ptr", "g_ptr", "C_IN_G", "C_OUT_G", "L_IN", "L_OUT"}
DIVISIBLE |= {"K", "N", "sxn", "sxc", "swo", "swk", "syn", "syc", "sgn", "sgc", "swc"}
UNIT = {"sxl", "syl", "sgl"}


def compile_one(fn, dtype: str, n_pointers: int, constexprs: dict, warps: int, target):
    import triton
    from triton.compiler import ASTSource

    from convtranspose.cuda import kernels

    names = fn.arg_names
    constants = dict(constexprs, **{u: 1 for u in UNIT if u in names})
    if fn is not kernels.weight_grad_kernel:  # the weight gradient's w is its output
        constants["swc"] = 1
    signature = {
        n: "constexpr" if n in constants else ("*" + dtype if i < n_pointers else "i32")
        for i, n in enumerate(names)
    }
    attrs = {
        (i,): [["tt.divisibility", 16]]
        for i, n in enumerate(names)
        if n in DIVISIBLE and n not in constants
    }
    source = ASTSource(
        fn=fn,
        signature=signature,
        constexprs={(names.index(k),): v for k, v in constants.items()},
        attrs=attrs,
    )
    return triton.compile(source, target=target, options={"num_warps": warps, "num_stages": 3})


def jobs():
    """(name, kernel, pointer count, constexprs) for the tile shapes the launcher picks."""
    import triton.language as tl

    from convtranspose.cuda import kernels as k

    for dtype, precision in [
        ("fp32", "tf32"),
        ("fp32", "ieee"),
        ("bf16", "ieee"),
        ("fp64", "ieee"),
    ]:
        dot = dtype != "fp64"
        acc = tl.float64 if dtype == "fp64" else tl.float32
        base = {"PRECISION": precision, "ACC": acc, "INT64": False, "USE_DOT": dot}
        co, red, cols = (64, 32, 64) if dot else (16, 4, 64)
        yield dtype, precision, [
            ("phase", k.conv_transpose1d_kernel, 4,
             dict(base, HAS_BIAS=True, BLOCK_CO=co, BLOCK_C=red, BLOCK_Q=cols, STRIDE_P2=8)),
            ("coalesced", k.conv_transpose1d_coalesced_kernel, 4,
             dict(base, HAS_BIAS=True, PHASES=8, BLOCK_CO=16 if dot else 2, BLOCK_C=red,
                  BLOCK_Q=32 if dot else 16)),
            ("coalesced-int64", k.conv_transpose1d_coalesced_kernel, 4,
             dict(base, HAS_BIAS=False, PHASES=2, BLOCK_CO=64 if dot else 8, BLOCK_C=red,
                  BLOCK_Q=64 if dot else 16, INT64=True)),
            ("input-grad", k.conv1d_kernel, 3,
             dict(base, BLOCK_C=co, BLOCK_O=red, BLOCK_I=cols)),
            ("weight-grad", k.weight_grad_kernel, 3,
             dict(base, BLOCK_C=co, BLOCK_O=co, BLOCK_I=32 if dot else 16)),
        ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", type=int, default=90, help="compute capability, e.g. 80, 90")
    args = parser.parse_args(argv)
    from triton.backends.compiler import GPUTarget

    target = GPUTarget("cuda", args.arch, 32)
    ok = True
    for dtype, precision, batch in jobs():
        for name, fn, n_pointers, constexprs in batch:
            warps = 8 if constexprs["USE_DOT"] else 4
            try:
                kernel = compile_one(fn, dtype, n_pointers, constexprs, warps, target)
            except Exception as error:  # report every kernel, keep going
                ok = False
                print(f"FAIL sm_{args.arch} {name} {dtype} {precision}: {error}", flush=True)
                continue
            ir = kernel.asm["ttgir"]
            how = "wgmma" if "warp_group_dot" in ir else ("mma" if "nvidia_mma" in ir else "fma")
            waits = re.findall(r"dot_wait[^\n]*pendings = (\d+)", ir)
            copies = ir.count("async_copy_global_to_local")
            print(
                f"ok   sm_{args.arch} {name:16} {dtype} {precision:5} {how:5} waits {waits} "
                f"async copies {copies} shared {kernel.metadata.shared} B",
                flush=True,
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
