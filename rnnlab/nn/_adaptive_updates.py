"""Optimizers with per-parameter adaptive step sizes (re-exported by :mod:`rnnlab.nn.updates`).

Each returns an :class:`~rnnlab.nn._update_state.OptimizerUpdates` whose ``state`` names every
accumulator it created (see :mod:`rnnlab.nn.updates` for the naming rule).  In the formulas
``g`` is the gradient, ``lr`` the learning rate and ``t`` the step number (1 on the first step).
"""

import pytensor
import pytensor.tensor as pt

from ._update_state import (OptimizerUpdates, StateMaker, cast_like, check_scalar,
                            get_or_compute_grads)

__all__ = ["adagrad", "rmsprop", "adadelta", "adam", "adamax", "amsgrad"]


def _prepare(loss_or_grads, params, optimizer, **hyper):
    for name, value in hyper.items():
        check_scalar(value, name)
    params = list(params)
    grads = get_or_compute_grads(loss_or_grads, params)
    updates = OptimizerUpdates()
    return params, grads, updates, StateMaker(updates, optimizer, params)


def adagrad(loss_or_grads, params, learning_rate=1.0, epsilon=1e-6):
    """Adagrad updates: steps shrink with the sum of all past squared gradients.

    ``accu <- accu + g**2``;  ``param <- param - lr * g / sqrt(accu + epsilon)``.

    Parameters
    ----------
    loss_or_grads : scalar expression or list of expressions
        A scalar loss, or one gradient per parameter.
    params : list of SharedVariable
        The parameters to update, any shapes.
    learning_rate, epsilon : float or symbolic scalar
        Step size, and a constant that keeps the denominator positive.

    Returns
    -------
    OptimizerUpdates
        Updates for each parameter and its accumulator; ``state`` holds ``"<param>.adagrad.accu"``
        (the parameter's shape).

    Examples
    --------
    >>> w = pytensor.shared(np.ones((2, 3)), name='w')
    >>> list(adagrad(pt.sum(w ** 2), [w], learning_rate=0.1).state)
    ['w.adagrad.accu']
    """
    params, grads, updates, maker = _prepare(loss_or_grads, params, "adagrad",
                                             learning_rate=learning_rate, epsilon=epsilon)
    for index, (param, grad) in enumerate(zip(params, grads)):
        accu = maker.slot(index, param, "accu")
        accu_new = accu + grad ** 2
        updates[accu] = cast_like(accu_new, accu)
        updates[param] = cast_like(param - learning_rate * grad / pt.sqrt(accu_new + epsilon),
                                   param)
    return updates


def rmsprop(loss_or_grads, params, learning_rate=1.0, rho=0.9, epsilon=1e-6):
    """RMSProp updates: steps scaled by a moving average of squared gradients.

    ``accu <- rho * accu + (1 - rho) * g**2``;  ``param <- param - lr * g / sqrt(accu + epsilon)``.

    Parameters
    ----------
    loss_or_grads : scalar expression or list of expressions
        A scalar loss, or one gradient per parameter.
    params : list of SharedVariable
        The parameters to update, any shapes.
    learning_rate, rho, epsilon : float or symbolic scalar
        Step size, decay of the moving average (in ``[0, 1)``), and a small positive constant.

    Returns
    -------
    OptimizerUpdates
        ``state`` holds ``"<param>.rmsprop.accu"`` (the parameter's shape).

    Examples
    --------
    >>> w = pytensor.shared(np.ones(3), name='w')
    >>> list(rmsprop(pt.sum(w ** 2), [w], learning_rate=0.01).state)
    ['w.rmsprop.accu']
    """
    params, grads, updates, maker = _prepare(loss_or_grads, params, "rmsprop",
                                             learning_rate=learning_rate, rho=rho,
                                             epsilon=epsilon)
    for index, (param, grad) in enumerate(zip(params, grads)):
        accu = maker.slot(index, param, "accu")
        accu_new = rho * accu + (1 - rho) * grad ** 2
        updates[accu] = cast_like(accu_new, accu)
        updates[param] = cast_like(param - learning_rate * grad / pt.sqrt(accu_new + epsilon),
                                   param)
    return updates


def adadelta(loss_or_grads, params, learning_rate=1.0, rho=0.95, epsilon=1e-6):
    """Adadelta updates: the ratio of past step sizes to past gradient sizes sets the step.

    With ``accu`` and ``delta_accu`` starting at zero::

        accu       <- rho * accu + (1 - rho) * g**2
        step        = g * sqrt(delta_accu + epsilon) / sqrt(accu + epsilon)   # old delta_accu
        param      <- param - lr * step
        delta_accu <- rho * delta_accu + (1 - rho) * step**2

    The paper has no learning rate (``lr = 1``, the default); as in Lasagne, ``delta_accu``
    accumulates the unscaled ``step``, so other learning rates only scale the parameter update.

    Parameters
    ----------
    loss_or_grads : scalar expression or list of expressions
        A scalar loss, or one gradient per parameter.
    params : list of SharedVariable
        The parameters to update, any shapes.
    learning_rate, rho, epsilon : float or symbolic scalar
        Step scale, decay of both moving averages, and a small positive constant (it sets the
        size of the first steps, when ``delta_accu`` is still zero).

    Returns
    -------
    OptimizerUpdates
        ``state`` holds ``"<param>.adadelta.accu"`` and ``"<param>.adadelta.delta_accu"`` (the
        parameter's shape).

    Examples
    --------
    >>> w = pytensor.shared(np.ones(3), name='w')
    >>> list(adadelta(pt.sum(w ** 2), [w]).state)
    ['w.adadelta.accu', 'w.adadelta.delta_accu']
    """
    params, grads, updates, maker = _prepare(loss_or_grads, params, "adadelta",
                                             learning_rate=learning_rate, rho=rho,
                                             epsilon=epsilon)
    for index, (param, grad) in enumerate(zip(params, grads)):
        accu = maker.slot(index, param, "accu")
        delta_accu = maker.slot(index, param, "delta_accu")
        accu_new = rho * accu + (1 - rho) * grad ** 2
        updates[accu] = cast_like(accu_new, accu)
        step = grad * pt.sqrt(delta_accu + epsilon) / pt.sqrt(accu_new + epsilon)
        updates[param] = cast_like(param - learning_rate * step, param)
        updates[delta_accu] = cast_like(rho * delta_accu + (1 - rho) * step ** 2, delta_accu)
    return updates


def _moment_updates(loss_or_grads, params, optimizer, learning_rate, beta1, beta2, epsilon,
                    step_size, second_moment):
    """The Adam family: a first moment, a second statistic, and one shared step counter."""
    params, grads, updates, maker = _prepare(loss_or_grads, params, optimizer,
                                             learning_rate=learning_rate, beta1=beta1,
                                             beta2=beta2, epsilon=epsilon)
    t_prev = maker.counter()
    t = t_prev + 1
    a_t = step_size(learning_rate, t)
    for index, (param, grad) in enumerate(zip(params, grads)):
        m_prev = maker.slot(index, param, "m")
        m_t = beta1 * m_prev + (1 - beta1) * grad
        updates[m_prev] = cast_like(m_t, m_prev)
        denominator = second_moment(maker, updates, index, param, grad)
        updates[param] = cast_like(param - a_t * m_t / (denominator + epsilon), param)
    updates[t_prev] = cast_like(t, t_prev)
    maker.state.move_to_end(t_prev.name)
    return updates


def _bias_corrected(beta1, beta2):
    return lambda lr, t: lr * pt.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)


def adam(loss_or_grads, params, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """Adam updates (Kingma & Ba, 2014), with bias correction through a shared step counter.

    With ``m``, ``v`` and the counter ``t`` starting at zero, each step does::

        t    <- t + 1
        a_t   = lr * sqrt(1 - beta2**t) / (1 - beta1**t)
        m    <- beta1 * m + (1 - beta1) * g
        v    <- beta2 * v + (1 - beta2) * g**2
        param <- param - a_t * m / (sqrt(v) + epsilon)

    Parameters
    ----------
    loss_or_grads : scalar expression or list of expressions
        A scalar loss, or one gradient per parameter.
    params : list of SharedVariable
        The parameters to update, any shapes.
    learning_rate, beta1, beta2, epsilon : float or symbolic scalar
        Step size, decay rates of the first and second moment estimates, stability constant.

    Returns
    -------
    OptimizerUpdates
        ``state`` holds ``"<param>.adam.m"`` and ``"<param>.adam.v"`` (the parameter's shape)
        for each parameter, then the step counter ``"adam.t"`` (0-d ``floatX``, as in
        Lasagne).  Restoring ``t`` with the moments is what makes a resumed run identical to an
        uninterrupted one.

    Examples
    --------
    >>> w = pytensor.shared(np.array([1.0, -2.0]), name='w')
    >>> updates = adam(pt.sum(w ** 2), [w], learning_rate=0.1)
    >>> list(updates.state)
    ['w.adam.m', 'w.adam.v', 'adam.t']
    >>> step = pytensor.function([], [], updates=updates)
    >>> _ = step()                   # the first step moves each entry by about lr
    >>> w.get_value().round(4)
    array([ 0.9, -1.9])
    >>> int(updates.state['adam.t'].get_value())
    1
    """
    return _moment_updates(loss_or_grads, params, "adam", learning_rate, beta1, beta2, epsilon,
                           _bias_corrected(beta1, beta2), _adam_second_moment(beta2, "v"))


def _adam_second_moment(beta2, slot, keep_max=False):
    def second_moment(maker, updates, index, param, grad):
        v_prev = maker.slot(index, param, slot)
        v_t = beta2 * v_prev + (1 - beta2) * grad ** 2
        updates[v_prev] = cast_like(v_t, v_prev)
        if not keep_max:
            return pt.sqrt(v_t)
        v_hat_prev = maker.slot(index, param, "v_hat")
        v_hat_t = pt.maximum(v_hat_prev, v_t)
        updates[v_hat_prev] = cast_like(v_hat_t, v_hat_prev)
        return pt.sqrt(v_hat_t)
    return second_moment


def adamax(loss_or_grads, params, learning_rate=0.002, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """Adamax updates: Adam with an infinity-norm second statistic (Kingma & Ba, 2014).

    With ``m``, ``u`` and ``t`` starting at zero, each step does::

        t    <- t + 1
        m    <- beta1 * m + (1 - beta1) * g
        u    <- maximum(beta2 * u, abs(g))
        param <- param - lr / (1 - beta1**t) * m / (u + epsilon)

    Parameters
    ----------
    loss_or_grads : scalar expression or list of expressions
        A scalar loss, or one gradient per parameter.
    params : list of SharedVariable
        The parameters to update, any shapes.
    learning_rate, beta1, beta2, epsilon : float or symbolic scalar
        Step size, decay rates of the moment and of the infinity norm, stability constant.

    Returns
    -------
    OptimizerUpdates
        ``state`` holds ``"<param>.adamax.m"`` and ``"<param>.adamax.u"`` per parameter, then
        ``"adamax.t"`` (0-d ``floatX``, as in Lasagne).

    Examples
    --------
    >>> w = pytensor.shared(np.ones(3), name='w')
    >>> list(adamax(pt.sum(w ** 2), [w]).state)
    ['w.adamax.m', 'w.adamax.u', 'adamax.t']
    """
    def infinity_norm(maker, updates, index, param, grad):
        u_prev = maker.slot(index, param, "u")
        u_t = pt.maximum(beta2 * u_prev, abs(grad))
        updates[u_prev] = cast_like(u_t, u_prev)
        return u_t

    return _moment_updates(loss_or_grads, params, "adamax", learning_rate, beta1, beta2, epsilon,
                           lambda lr, t: lr / (1 - beta1 ** t), infinity_norm)


def amsgrad(loss_or_grads, params, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """AMSGrad updates (Reddi et al., 2018): Adam that divides by the largest ``v`` seen so far.

    As :func:`adam`, with one more accumulator ``v_hat`` (starting at zero)::

        v_hat <- maximum(v_hat, v)
        param <- param - a_t * m / (sqrt(v_hat) + epsilon)

    Parameters
    ----------
    loss_or_grads : scalar expression or list of expressions
        A scalar loss, or one gradient per parameter.
    params : list of SharedVariable
        The parameters to update, any shapes.
    learning_rate, beta1, beta2, epsilon : float or symbolic scalar
        As for :func:`adam`.

    Returns
    -------
    OptimizerUpdates
        ``state`` holds ``"<param>.amsgrad.m"``, ``"<param>.amsgrad.v"`` and
        ``"<param>.amsgrad.v_hat"`` per parameter, then ``"amsgrad.t"`` (0-d ``floatX``, as in Lasagne).

    Examples
    --------
    >>> w = pytensor.shared(np.ones(3), name='w')
    >>> list(amsgrad(pt.sum(w ** 2), [w]).state)
    ['w.amsgrad.m', 'w.amsgrad.v', 'w.amsgrad.v_hat', 'amsgrad.t']
    """
    return _moment_updates(loss_or_grads, params, "amsgrad", learning_rate, beta1, beta2,
                           epsilon, _bias_corrected(beta1, beta2),
                           _adam_second_moment(beta2, "v", keep_max=True))
