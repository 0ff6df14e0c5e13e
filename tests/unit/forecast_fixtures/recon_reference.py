#!/usr/bin/env python3
"""Independent reference for tests/unit/test_forecast_recon.c: OLS and MinT-shrink
reconciliation of a 7-node hierarchy (T -> A, B; A -> AA, AB; B -> BA, BB), written from
the formulas (Hyndman et al. 2011; Wickramasuriya, Athanasopoulos & Hyndman 2019, eq. 10;
the shrinkage as R hts' shrink.estim) with explicit matrix inverses by Gauss-Jordan
(the C code uses Cholesky solves). Pure Python: run it and paste its output."""

nodes = ["T", "A", "B", "AA", "AB", "BA", "BB"]
S = [[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
base = [100.0, 55.0, 40.0, 30.0, 22.0, 18.0, 25.0]
# in-sample one-step residuals, 8 per node
R = [
    [3.0, -2.0, 1.5, -4.0, 2.5, 0.5, -1.0, 2.0],
    [2.0, -1.0, 0.5, -2.5, 1.0, 0.0, -0.5, 1.5],
    [1.2, -0.8, 1.1, -1.4, 1.3, 0.4, -0.6, 0.3],
    [1.0, -0.4, 0.2, -1.5, 0.7, 0.3, 0.1, 0.9],
    [0.9, -0.7, 0.4, -0.9, 0.2, -0.4, -0.5, 0.7],
    [0.5, -0.3, 0.6, -0.8, 0.9, 0.1, -0.2, 0.4],
    [0.6, -0.6, 0.4, -0.5, 0.5, 0.4, -0.3, -0.2],
]


def mat(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))] for i in range(len(a))]


def tr(a):
    return [list(r) for r in zip(*a)]


def inv(a):
    n = len(a)
    m = [list(map(float, r)) + [1.0 if i == j else 0.0 for j in range(n)] for i, r in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        d = m[c][c]
        m[c] = [v / d for v in m[c]]
        for r in range(n):
            if r != c:
                f = m[r][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c])]
    return [r[n:] for r in m]


def recon(Winv):
    G = mat(inv(mat(mat(tr(S), Winv), S)), mat(tr(S), Winv))
    return [r[0] for r in mat(S, mat(G, [[b] for b in base]))]


n, T = len(nodes), len(R[0])
I = [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
ols = recon(I)
cov = [[sum(R[i][t] * R[j][t] for t in range(T)) / T for j in range(n)] for i in range(n)]
sd = [cov[i][i] ** 0.5 for i in range(n)]
xs = [[R[i][t] / sd[i] for t in range(T)] for i in range(n)]
cor = [[cov[i][j] / (sd[i] * sd[j]) for j in range(n)] for i in range(n)]
num = den = 0.0
for i in range(n):
    for j in range(n):
        if i != j:
            s2 = sum((xs[i][t] * xs[j][t]) ** 2 for t in range(T))
            s1 = sum(xs[i][t] * xs[j][t] for t in range(T))
            num += (s2 - s1 * s1 / T) / (T * (T - 1))
            den += cor[i][j] ** 2
lam = max(0.0, min(1.0, num / den))
W = [[cov[i][j] * (1 if i == j else 1 - lam) for j in range(n)] for i in range(n)]
mint = recon(inv(W))
print("lambda %.15g" % lam)
print("ols " + " ".join("%.15g" % v for v in ols))
print("mint " + " ".join("%.15g" % v for v in mint))
