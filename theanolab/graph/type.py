"""Types: what values a variable may hold, and how to check and convert them."""

from __future__ import annotations

from theanolab.graph.basic import Constant, Variable


class Type:
    """The kind of value a Variable stands for.

    Subclasses define :meth:`filter`, which checks (and, when allowed,
    converts) a run-time value, plus the classes used for their variables and
    constants.  Types are compared by value: two ``TensorType('float64', (False,))``
    are the same type.
    """

    variable_type = Variable
    constant_type = Constant

    def filter(self, data, strict=False, allow_downcast=None):
        """Return ``data`` as a valid value of this type or raise TypeError."""
        raise NotImplementedError(f"{type(self).__name__} must define filter")

    def is_valid_value(self, data):
        try:
            self.filter(data, strict=True)
            return True
        except (TypeError, ValueError):
            return False

    def is_compatible(self, other):
        """True if a variable of ``other`` may stand where one of ``self`` is expected."""
        return self == other

    def make_variable(self, name=None):
        return self.variable_type(self, None, None, name)

    def make_constant(self, data, name=None):
        return self.constant_type(self, data, name)

    def __call__(self, name=None):
        """``TensorType('float32', (False,))('x')`` makes a new variable named x."""
        return self.make_variable(name)

    def values_eq(self, a, b):
        return a == b

    def values_eq_approx(self, a, b):
        return self.values_eq(a, b)

    def value_key(self, data):
        """A hashable summary of a value, used to merge equal constants."""
        return data

    def format_value(self, data):
        return str(data)

    def __ne__(self, other):
        return not self == other
