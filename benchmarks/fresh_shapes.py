"""Fresh simulations of the shapes issue 16 names, at other sizes and seeds than the model cards, each fitted with
the default ``fit()``: max R-hat (population parameters and every level's effects), min bulk ESS, divergences,
whether the true fixed effects lie inside the 90 % intervals, and the variance components.

    python benchmarks/fresh_shapes.py schools 99     # also: crossed, poisson, bernoulli, binomial

Not part of the test suite (each fit takes 20-100 s on 2 cores).
"""
import sys, time, warnings
import numpy as np, pandas as pd
import bayesmixed as bm
from bayesmixed import summaries as S
warnings.simplefilter("ignore")
rng = np.random.default_rng(int(sys.argv[2]) if len(sys.argv) > 2 else 99)
which = sys.argv[1]

def report(name, model, truth_beta, truth_sd):
    t = time.perf_counter()
    fit = model.fit(progressbar=False)
    wall = time.perf_counter() - t
    conv = S.convergence(fit.idata)
    fx = fit.fixef(prob=0.9)
    vc = fit.varcorr(prob=0.9)
    rh_all = float(max(float(fit.idata.posterior[v].pipe(lambda a: __import__("arviz").rhat(a)).to_array().max()) for v in fit.idata.posterior.data_vars if v.startswith("r_"))) if any(v.startswith("r_") for v in fit.idata.posterior.data_vars) else float("nan")
    cover = {k: bool(fx.loc[k, "lower"] <= v <= fx.loc[k, "upper"]) for k, v in truth_beta.items()}
    print(f"== {name}: {dict(model.spec.parameterization)}")
    print(f"   wall {wall:.1f} s, div {fit.divergences}, max R-hat pop {conv['r_hat'].max():.4f}, r_ max R-hat {rh_all:.4f}, min bulk ESS {conv['ess_bulk'].min():.0f}")
    print("   beta in 90%:", cover)
    print(vc.to_string())

if which == "schools":
    ns, nst, nocc = 30, 8, 5
    rows = [(f"S{s}", f"P{t}", o, rng.choice(["f", "m"]), round(rng.normal(3, .4), 1)) for s in range(ns) for t in range(nst) for o in range(nocc)]
    d = pd.DataFrame(rows, columns=["school", "student", "occ", "sex", "prior"])
    tr = {"beta": {"Intercept": 1.0, "occ": 0.2, "sexm": 0.3, "prior": 0.5}, "sd": {"school": 0.4, "school:student": {"Intercept": 0.5, "occ": 0.1}}, "corr": {"school:student": 0.3}, "sigma": 0.5}
    d = bm.simulate("y ~ occ + sex + prior + (1 | school) + (1 + occ | school:student)", d, tr, seed=11)
    report("schools 30x8x5", bm.Model("y ~ occ + sex + prior + (1 | school) + (1 + occ | school:student)", d), tr["beta"], None)
elif which == "crossed":
    subj, item = [f"s{i}" for i in range(40)], [f"i{j}" for j in range(24)]
    d = pd.DataFrame([(s, i) for s in subj for i in item], columns=["subj", "item"])
    d["cond"] = np.where(d["item"].str[1:].astype(int) % 2 == 0, -0.5, 0.5)
    tr = {"beta": {"Intercept": 6.0, "cond": 0.1}, "sd": {"subj": {"Intercept": 0.3, "cond": 0.1}, "item": 0.2}, "corr": {"subj": 0.2}, "sigma": 0.4}
    d = bm.simulate("rt ~ cond + (1 + cond | subj) + (1 | item)", d, tr, seed=12)
    report("crossed subj x item 40x24", bm.Model("rt ~ cond + (1 + cond | subj) + (1 | item)", d), tr["beta"], None)
elif which == "poisson":
    site, year = [f"site{i}" for i in range(25)], [f"y{j}" for j in range(12)]
    d = pd.DataFrame([(s, y) for s in site for y in year], columns=["site", "year"])
    d["x"] = np.round(rng.normal(size=len(d)), 2); d["obs"] = np.arange(len(d))
    tr = {"beta": {"Intercept": 1.0, "x": 0.4}, "sd": {"site": 0.6, "year": 0.3, "obs": 0.5}}
    d = bm.simulate("n ~ x + (1 | site) + (1 | year) + (1 | obs)", d, tr, family="poisson", seed=13)
    report("poisson crossed + olre 25x12", bm.Model("n ~ x + (1 | site) + (1 | year) + (1 | obs)", d, family="poisson"), tr["beta"], None)
elif which == "bernoulli":
    items = pd.DataFrame({"item": [f"I{i}" for i in range(24)], "difficulty": np.round(rng.normal(size=24), 2)})
    persons = pd.DataFrame({"person": [f"P{p}" for p in range(180)], "grp": rng.choice(["a", "b"], 180)})
    d = persons.merge(items, how="cross")
    tr = {"beta": {"Intercept": 0.2, "grpb": 0.5, "difficulty": -0.7}, "sd": {"person": 1.2, "item": 0.5}}
    d = bm.simulate("y ~ grp + difficulty + (1 | person) + (1 | item)", d, tr, family="bernoulli", seed=14)
    report("bernoulli person x item 180x24", bm.Model("y ~ grp + difficulty + (1 | person) + (1 | item)", d, family="bernoulli"), tr["beta"], None)
elif which == "binomial":
    farm = np.repeat([f"F{i}" for i in range(20)], 3)
    pen = [f"{f}p{j % 3}" for j, f in enumerate(farm)]
    d = pd.DataFrame({"farm": np.repeat(farm, 4), "pen": np.repeat(pen, 4)})
    d["t"] = np.tile([0, 1, 2, 3], 60); d["n"] = rng.integers(8, 20, len(d)); d["obs"] = np.arange(len(d))
    tr = {"beta": {"Intercept": -1.0, "t": 0.3}, "sd": {"farm": 0.5, "farm:pen": 0.3, "obs": 0.3}}
    d = bm.simulate("cbind(k, n - k) ~ t + (1 | farm/pen) + (1 | obs)", d, tr, family="binomial", seed=15)
    report("binomial farm/pen + olre", bm.Model("cbind(k, n - k) ~ t + (1 | farm/pen) + (1 | obs)", d, family="binomial"), tr["beta"], None)
