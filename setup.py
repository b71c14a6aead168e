"""Package discovery that pyproject.toml cannot express on its own.

Every ``theanolab*`` package is found automatically, and the top-level
``kernels/`` folder (C and CUDA templates, not Python) is mapped to the data
package ``theanolab.kernels`` so its files ship in the wheel.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["theanolab", "theanolab.*"]) + ["theanolab.kernels"],
    package_dir={"theanolab.kernels": "kernels"},
)
