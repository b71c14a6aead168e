"""The algebra of products of exponentials and sigmoids, used by the stability rewrites.

For any expression t these are equal::

    1 / (1 + exp(t))  =  sigmoid(-t)
    exp(t) * sigmoid(-t)  =  sigmoid(t)        (so exp(t) / (1 + exp(t)) is sigmoid(t))

The left sides fail at the ends of the range: exp(800) is inf, and a
sigmoid that underflowed to 0 in a denominator gives inf or nan.  So a
product is read as ``c * f1**k1 * f2**k2 * ...`` (through mul, true_div,
neg, inv, sqr and small integer powers), and the factors exp(±t),
sigmoid(±t) and (1 + exp(±t)) of each argument t are gathered:
they equal ``exp(t)**e * sigmoid(t)**p * sigmoid(-t)**q`` for many
(e, p, q), since only ``e + p`` and ``p + q`` matter.  The cheapest such
triple is written back, a factor costing 1, or 2 when it is a sigmoid in
a denominator (which may be 0) or a ``1 + exp`` (which may overflow).
Arguments are compared as linear forms, so ``-a - b`` is recognised as the
negation of ``a + b``.

Gradients need one step more.  The gradient of the cross-entropy of
``p = sigmoid(z)`` reaches z as ``(g1 / p - g2 / (1 - p)) * p * (1 - p)``:
the denominators sit inside a sum.  When multiplying a sum's terms by the
other factors lets a term cancel a denominator, the product is distributed
over the sum, and each term simplified on its own.
"""

from __future__ import annotations

from theanolab import scalar as ts
from theanolab.tensor import math as tm
from theanolab.tensor import nnet
from theanolab.tensor.elemwise import Elemwise
from theanolab.tensor.rewriting.forms import constant_like, fit, is_float, negated, one_plus
from theanolab.tensor.rewriting.utils import is_elemwise, scalar_constant_value

__all__ = ["simplify_sigmoid_products"]

#: the largest integer power read as repeated factors.
_MAX_POWER = 4


# --------------------------------------------------------------------------- reading


class _Product:
    """``coefficient * prod(var ** exponent for var, exponent in factors)``.

    ``factors`` keeps every factor as read, unmerged, so that ``s / s`` is
    seen as a cancellation (which is what makes it worth rewriting).
    """

    def __init__(self, coefficient=1.0, factors=()):
        self.coefficient = coefficient
        self.factors = list(factors)

    def times(self, other):
        return _Product(self.coefficient * other.coefficient, self.factors + other.factors)

    def without(self, var):
        return _Product(self.coefficient, [(v, k) for v, k in self.factors if v is not var])

    def merged(self):
        """``{var: total exponent}`` of the factors that do not cancel."""
        totals = {}
        for var, exponent in self.factors:
            totals[var] = totals.get(var, 0) + exponent
        return {var: exponent for var, exponent in totals.items() if exponent}


def _read(var, power, product):
    value = scalar_constant_value(var)
    if value is not None and (power > 0 or value != 0):
        product.coefficient *= float(value) ** power
        return
    node = var.owner
    if node is not None and isinstance(node.op, Elemwise) and is_float(var):
        op, inputs = node.op.scalar_op, node.inputs
        if isinstance(op, ts.Mul):
            for v in inputs:
                _read(v, power, product)
            return
        if isinstance(op, ts.TrueDiv):
            _read(inputs[0], power, product)
            _read(inputs[1], -power, product)
            return
        if isinstance(op, ts.Neg):
            product.coefficient *= (-1.0) ** power
            _read(inputs[0], power, product)
            return
        exponent = _power_of(op, inputs)
        if exponent is not None:
            _read(inputs[0], exponent * power, product)
            return
    product.factors.append((var, power))


def _power_of(op, inputs):
    """The integer power a node raises its first input to (inv, sqr, pow by a small integer), or None."""
    if isinstance(op, ts.Inv):
        return -1
    if isinstance(op, ts.Sqr):
        return 2
    if isinstance(op, ts.Pow):
        k = scalar_constant_value(inputs[1])
        if k is not None and float(k).is_integer() and 0 < abs(k) <= _MAX_POWER:
            return int(k)
    return None


def _read_product(var):
    """``var`` as a :class:`_Product`."""
    product = _Product()
    _read(var, 1, product)
    return product


def _linear_form(var, scale, form):
    """Add ``scale * var``, expanded through add, sub, neg and constant multiples, to ``form``."""
    value = scalar_constant_value(var)
    if value is not None:
        form[None] = form.get(None, 0.0) + scale * float(value)
        return
    node = var.owner
    if node is not None and is_elemwise(node, (ts.Add, ts.Sub, ts.Neg, ts.Mul)):
        op, inputs = node.op.scalar_op, node.inputs
        if isinstance(op, ts.Add):
            for v in inputs:
                _linear_form(v, scale, form)
            return
        if isinstance(op, ts.Sub):
            _linear_form(inputs[0], scale, form)
            _linear_form(inputs[1], -scale, form)
            return
        if isinstance(op, ts.Neg):
            _linear_form(inputs[0], -scale, form)
            return
        values = [scalar_constant_value(v) for v in inputs]
        rest = [v for v, value in zip(inputs, values) if value is None]
        if len(rest) == 1:
            for value in values:
                if value is not None:
                    scale *= float(value)
            _linear_form(rest[0], scale, form)
            return
    form[var] = form.get(var, 0.0) + scale


def _signed_keys(arg):
    """Keys of ``arg`` and of ``-arg``: two arguments are equal (or opposite) when their keys are."""
    form = {}
    _linear_form(arg, 1.0, form)
    terms = [(var, coef) for var, coef in form.items() if coef != 0]
    return frozenset(terms), frozenset((var, -coef) for var, coef in terms)


def _family(var):
    """``(kind, argument)`` for exp(t), sigmoid(t) and 1 + exp(t); None for any other factor."""
    node = var.owner
    if node is None or not isinstance(node.op, Elemwise):
        return None
    if isinstance(node.op.scalar_op, ts.Exp):
        return "exp", node.inputs[0]
    if isinstance(node.op.scalar_op, nnet.ScalarSigmoid):
        return "sigmoid", node.inputs[0]
    x = one_plus(var)
    if x is not None and x.owner is not None and is_elemwise(x.owner, ts.Exp):
        return "one_plus_exp", x.owner.inputs[0]
    return None


# --------------------------------------------------------------------------- one argument


def _cost(exponent):
    """Cost of a sigmoid to this power: 1 a factor, 2 in a denominator (where it may be 0)."""
    return exponent if exponent >= 0 else -2 * exponent


class _Argument:
    """The factors of one argument t: ``exp(t)**e * sigmoid(t)**p * sigmoid(-t)**q``, as found
    (sign +1 is t, -1 is -t: the orientation of the first factor met)."""

    def __init__(self):
        self.e = self.p = self.q = 0
        self.cost = 0  # of the factors as found
        self.found = {}  # {var: exponent}
        self.args = {}  # {sign: an argument var of that sign}
        self.made = {}  # {(kind, sign): var}, the factors that exist already

    def add(self, kind, var, arg, sign, exponent):
        self.found[var] = self.found.get(var, 0) + exponent
        self.args.setdefault(sign, arg)
        if kind == "exp":
            self.e += sign * exponent
            self.cost += abs(exponent)
            self.made.setdefault(("exp", sign), var)
        elif kind == "sigmoid":
            if sign > 0:
                self.p += exponent
            else:
                self.q += exponent
            self.cost += _cost(exponent)
            self.made.setdefault(("sigmoid", sign), var)
        else:  # 1 + exp(sign t) = 1 / sigmoid(-sign t)
            if sign > 0:
                self.q -= exponent
            else:
                self.p -= exponent
            self.cost += 2 * abs(exponent)

    def best(self):
        """``(cost, e, p, q)`` of the cheapest equal triple (fewest exps on ties)."""
        total_e, total_q = self.e + self.p, self.p + self.q
        low, high = min(0, total_e, total_q, self.p) - 1, max(0, total_e, total_q, self.p) + 1
        choices = []
        for p in range(low, high + 1):
            e, q = total_e - p, total_q - p
            choices.append((abs(e) + _cost(p) + _cost(q), abs(e), e, p, q))
        cost, _, e, p, q = min(choices)
        return cost, e, p, q

    def var(self, kind, sign):
        """exp(sign t) or sigmoid(sign t): an existing node when there is one."""
        if (kind, sign) not in self.made:
            if sign not in self.args:
                self.args[sign] = negated(self.args[-sign])
            function = tm.exp if kind == "exp" else nnet.sigmoid
            self.made[kind, sign] = function(self.args[sign])
        return self.made[kind, sign]

    def factors(self):
        """The factors to write back: the cheapest triple, or those found when it is no cheaper."""
        cost, e, p, q = self.best()
        if cost >= self.cost:
            return dict(self.found)
        written = {}
        for kind, sign, exponent in (("exp", 1 if e > 0 else -1, abs(e)), ("sigmoid", 1, p), ("sigmoid", -1, q)):
            if exponent:
                written[self.var(kind, sign)] = exponent
        return written


def _arguments(product):
    """``({key: _Argument}, {var: exponent of the other factors})``."""
    arguments, others = {}, {}
    for var, exponent in product.factors:
        family = _family(var)
        if family is None:
            others[var] = others.get(var, 0) + exponent
            continue
        kind, arg = family
        key, negative_key = _signed_keys(arg)
        if key in arguments or negative_key not in arguments:
            sign, argument = 1, arguments.setdefault(key, _Argument())
        else:
            sign, argument = -1, arguments[negative_key]
        argument.add(kind, var, arg, sign, exponent)
    return arguments, {var: exponent for var, exponent in others.items() if exponent}


def _gain(product):
    """How much cheaper the product's exp/sigmoid factors get when written the cheapest way."""
    arguments, _ = _arguments(product)
    return sum(max(a.cost - a.best()[0], 0) for a in arguments.values())


def _best_cost(product):
    arguments, _ = _arguments(product)
    return sum(min(a.cost, a.best()[0]) for a in arguments.values())


def _simplified(product):
    arguments, others = _arguments(product)
    factors = list(others.items())
    for argument in arguments.values():
        factors.extend(argument.factors().items())
    return _Product(product.coefficient, factors)


# --------------------------------------------------------------------------- distributing over sums


def _terms(var):
    """``[(sign, term)]`` of a float sum or difference, or None for anything else."""
    node = var.owner
    if node is None or not is_float(var):
        return None
    if is_elemwise(node, ts.Add):
        return [(1.0, v) for v in node.inputs]
    if is_elemwise(node, ts.Sub):
        return [(1.0, node.inputs[0]), (-1.0, node.inputs[1])]
    return None


def _distributed(product):
    """The terms ``sign * term * rest`` when distributing ``product`` over one of its sums
    lets some term cancel against the rest, else None."""
    for var, exponent in product.merged().items():
        terms = _terms(var) if exponent == 1 else None
        if terms is None:
            continue
        rest = product.without(var)
        if not any(_family(v) for v, _ in rest.factors):
            continue
        rest_cost = _best_cost(rest)
        expanded = [_Product(sign).times(_read_product(term)) for sign, term in terms]
        combined = [term.times(rest) for term in expanded]
        if any(_best_cost(t) + rest_cost > _best_cost(c) for t, c in zip(expanded, combined)):
            return combined
    return None


# --------------------------------------------------------------------------- writing


def _written(product, like):
    """The product as mul / true_div / neg, its coefficient a constant of ``like``'s dtype."""
    factors = product.merged()
    numerator = [v for v, k in factors.items() if k > 0 for _ in range(k)]
    denominator = [v for v, k in factors.items() if k < 0 for _ in range(-k)]
    magnitude = abs(product.coefficient)
    if magnitude != 1 or not numerator:
        numerator.insert(0, constant_like(magnitude, like))
    result = numerator[0] if len(numerator) == 1 else tm.mul(*numerator)
    if denominator:
        result = tm.true_div(result, denominator[0] if len(denominator) == 1 else tm.mul(*denominator))
    return result


def _written_sum(products, like):
    result = None
    for product in products:
        term = _written(product, like)
        negative = product.coefficient < 0
        if result is None:
            result = tm.neg(term) if negative else term
        else:
            result = tm.sub(result, term) if negative else tm.add(result, term)
    return result


def simplify_sigmoid_products(out):
    """A stabler equal expression for the product ``out`` (fitted to its type), or None."""
    product = _read_product(out)
    distributed = _distributed(product)
    if distributed is not None:
        new = _written_sum([_simplified(p) for p in distributed], out)
        sources = [v for p in distributed for v, _ in p.factors]
    elif _gain(product) > 0:
        new = _written(_simplified(product), out)
        if product.coefficient < 0:
            new = tm.neg(new)
        sources = [v for v, _ in product.factors]
    else:
        return None
    return fit(out, new, sources)
