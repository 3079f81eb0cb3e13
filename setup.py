"""Build of qvalid's optional compiled kernels (qvalid/core/ckernels.c); everything else is in pyproject.toml.

The extension is optional: without a C compiler (Debian: gcc and python3-dev) qvalid installs and runs on its
numpy code, which gives the same bits (qvalid/core/kernels.py). -ffp-contract=off: no fused multiply-adds, so every
product and sum is rounded as numpy rounds it.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("qvalid.core.ckernels", ["qvalid/core/ckernels.c"], optional=True,
                             extra_compile_args=["-O2", "-ffp-contract=off", "-fno-fast-math", "-std=c99"])])
