"""Backends turn an optimized FunctionGraph into something that runs it."""
