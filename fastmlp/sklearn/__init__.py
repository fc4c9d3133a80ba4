"""scikit-learn estimators trained by fastmlp's kernels: `MLPClassifier` and `MLPRegressor`.

Change one import line and a scikit-learn script runs on fastmlp:

    from fastmlp import MLPClassifier      # was: from sklearn.neural_network import MLPClassifier

The constructor takes scikit-learn's parameters with scikit-learn's names and defaults, the
fitted estimator has scikit-learn's attributes (`coefs_`, `intercepts_`, `loss_curve_`, ...), and
it works inside Pipelines, GridSearchCV and cross_val_score. scikit-learn is the optional extra
`pip install 'fastmlp[sklearn]'`; the rest of fastmlp never imports it.

How each parameter maps onto fastmlp's core (J_B is the objective of minibatch B, W_B its
weight total: its row count, or the sum of its sample weights):

    hidden_layer_sizes   layer widths [n_features, *hidden_layer_sizes, n_outputs]
    activation           identity | logistic (the sigmoid) | tanh | relu; fastmlp adds leaky_relu
    solver               adam and sgd: the epoch kernel (one compiled call per epoch);
                         lbfgs: SciPy's L-BFGS-B on the full-batch loss and gradient kernels,
                         maxiter=max_iter, maxfun=max_fun, gtol=tol, ftol left at SciPy's default
    alpha                J_B = [sum_B w_i l_i + (alpha/2) sum_k ||W^k||^2] / W_B: the kernels'
                         lambda is alpha / W_B for each minibatch (the last, shorter one too);
                         L-BFGS: lambda = alpha / (total weight)
    batch_size           "auto" = min(200, n_samples); larger than n_samples: clipped, with a warning
    learning_rate        sgd only. constant; invscaling: after each epoch
                         lr = learning_rate_init / (t_ + 1) ** power_t, t_ = samples seen;
                         adaptive: when the stopping rule below fires, lr /= 5 instead of
                         stopping, until lr <= 1e-6
    momentum, nesterovs_momentum   v <- mu v - lr g; theta <- theta + v, or with Nesterov
                         theta <- theta + mu v - lr g (fastmlp's sgd optimizer)
    beta_1, beta_2, epsilon   Adam in scikit-learn's form: theta <- theta - lr_t m / (sqrt(v) + eps),
                         lr_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t) (fastmlp's adam with
                         epsilon_hat)
    tol, n_iter_no_change   after each epoch, an epoch counts as "no improvement" when the
                         training loss > best_loss_ - tol (or, with early_stopping, the
                         validation score < best_validation_score_ + tol); more than
                         n_iter_no_change of them in a row stops training (adaptive: lowers lr)
    early_stopping, validation_fraction   a validation_fraction split drawn from random_state
                         (stratified for binary targets, as scikit-learn does); the score is
                         accuracy or R^2; the best epoch's weights are restored at the end
    max_iter             epochs (sgd, adam) or iterations (lbfgs); reaching it warns ConvergenceWarning
    shuffle, random_state   the same random stream as scikit-learn's: weights and biases drawn
                         U(-b, b), b = sqrt(6 / (fan_in + fan_out)) (2 instead of 6 for logistic),
                         then the early-stopping split, then one permutation per epoch
    warm_start           fit continues from the current weights; the optimizer restarts (as in
                         scikit-learn); partial_fit keeps it across calls
    verbose              prints the loss after each epoch
    max_fun              L-BFGS's bound on loss evaluations
    loss (regressor)     squared_error: l_i = 1/2 ||y_hat_i - y_i||^2, identity output;
                         poisson: the half Poisson deviance with y_hat = e^z (fastmlp's task
                         poisson; y must be counts >= 0)

fastmlp's own parameters, whose defaults keep scikit-learn's behaviour:

    dtype         None: float32 input trains float32 weights, anything else float64 (as
                  scikit-learn); "float32" or "float64" forces it
    dropout       inverted dropout on the hidden layers while training (0: none)
    class_weight  (classifier) "balanced" or {class: weight}, multiplying sample_weight

Outputs, as scikit-learn's: more than two classes, softmax units with the cross-entropy loss;
two classes, one logistic unit (coefs_[-1] has one column) with the binary cross-entropy;
multilabel indicator targets, one logistic unit per label.

Threads: the GEMMs run on OpenBLAS through SciPy. Minibatches of 8 rows or fewer run their BLAS
calls on one thread (5 to 12 rows take the row-streaming forward kernel for their larger
layers); larger ones use the
process's BLAS threads as they are set. GridSearchCV(n_jobs=k) and cross_val_score run fits in
joblib's worker processes, which joblib starts with the BLAS threads limited to cores // k, and
fit never raises that limit; a fit called from a thread other than the main one (joblib's
threading backend) runs its BLAS on one thread. Either way cores are shared, not oversubscribed.

Where this differs from scikit-learn, on purpose:
- loss_ and loss_curve_ of sgd/adam count the L2 term with ||W||^2 averaged over the epoch's
  first and last weights (scikit-learn adds each minibatch's own), and with sample weights the
  epoch's data loss is weighted by sample weight rather than by minibatch row count.
- The cross-entropy is computed from the logits (log-sum-exp), so a confidently wrong sample
  costs its true loss; scikit-learn clips probabilities at the float epsilon (15.9 nats at most
  in float32).
- A stochastic fit whose loss goes non-finite raises scikit-learn's ValueError at that epoch;
  with early_stopping=True it stops there instead, keeps the best epoch's weights and warns
  (ConvergenceWarning), where scikit-learn trains on with non-finite weights until its stopping
  rule fires and then restores the same best weights.
- Sample weights must be >= 0 (scikit-learn takes negative ones without a word; a negative weight
  rewards a larger loss, which is no fit at all).
- Parameter errors are fastmlp.sklearn.InvalidParameterError (a ValueError and a TypeError, like
  scikit-learn's own, with its wording).
- Multi-output regression reports loss_ as scikit-learn does (the squared error averaged over
  outputs), but L-BFGS minimises the sum over outputs, whose gradient is the one both libraries
  compute (scikit-learn hands SciPy the averaged value with the summed gradient).

Models move between the estimator and the rest of fastmlp through the same plain .npz:
`est.save("m.npz")` writes what `fastmlp predict` reads (a two-class classifier is written as
the equivalent two-unit softmax), and `MLPClassifier.load("runs/x/model.npz")` wraps a model
trained by `fastmlp train`, its preprocessing included. Pickling the estimator (joblib.dump)
works too; model files themselves never hold pickles.
"""

from __future__ import annotations

try:
    import sklearn  # noqa: F401
    from sklearn.utils.validation import validate_data  # noqa: F401  scikit-learn >= 1.6
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "fastmlp's scikit-learn estimators need scikit-learn >= 1.6: pip install 'fastmlp[sklearn]'"
    ) from None

from .classifier import MLPClassifier
from .params import NON_FINITE, InvalidParameterError
from .regressor import MLPRegressor

__all__ = ["NON_FINITE", "InvalidParameterError", "MLPClassifier", "MLPRegressor"]
