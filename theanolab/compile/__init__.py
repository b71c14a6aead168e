"""Compiling graphs into callables: function, In/Param, shared variables, modes."""

from theanolab.compile.function import Function, FunctionMaker, UnusedInputError, function  # noqa: F401
from theanolab.compile.io import In, Param  # noqa: F401
from theanolab.compile.mode import Mode, get_mode  # noqa: F401
from theanolab.compile.debugmode import DebugMode, DebugModeError  # noqa: F401
from theanolab.compile.nanguardmode import NanGuardMode, NanGuardError  # noqa: F401
from theanolab.compile.sharedvalue import SharedVariable, shared  # noqa: F401
