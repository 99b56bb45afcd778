"""Targets, markdown tables and plots from the results dictionary."""

import numpy as np

LEVEL_KEYS = ("0.01", "0.0001", "1e-06", "1e-08")


def json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def _median(results, problem, contender, threads):
    row = results["problems"].get(problem, {}).get("fits", {}).get(contender, {})
    return row.get("times", {}).get(str(threads), {}).get("median")


def _fmt(x, spec=".3g", none="-"):
    if x is None:
        return none
    if isinstance(x, float) and not np.isfinite(x):
        return "inf"
    return format(x, spec)


def _target(name, value, goal, met, detail):
    return {"target": name, "value": value, "goal": goal, "met": met, "detail": detail}


def _peer_margins(results, problem, ours, threads):
    """How much faster ``ours`` is than the same algorithm in scikit-learn
    (Ridge cholesky) and than the peers (glum, himalaya) on ``problem``: rows
    without a goal of their own (the issue asks for the margins)."""
    mine = _median(results, problem, ours, threads)
    fits = results["problems"].get(problem, {}).get("fits", {})
    rows = []
    for name in ["Ridge cholesky"] + [n for n, f in fits.items() if f.get("family") == "peer"]:
        theirs = _median(results, problem, name, threads)
        if mine and theirs:
            rows.append(_target(
                f"{ours} vs {name}, {problem}, {threads} thread(s)", theirs / mine,
                "margin (> 1: ours faster)", theirs > mine, f"{mine:.3g}s vs {theirs:.3g}s",
            ))
    return rows


def targets(results):
    """Evaluate the issue's targets from the measurements (ratios, same run)."""
    out = []
    if "issue15" in results:
        import _floor_targets

        out.extend(_floor_targets.targets(results["issue15"], _target))
    threads = results["threads"]
    probs = results["problems"]
    if "dense_tall" in probs:
        for t in threads:
            cf = _median(results, "dense_tall", "l2gd closed_form", t)
            rd = _median(results, "dense_tall", "Ridge auto", t)
            bb = _median(results, "dense_tall", "bare blocked syrk+cholesky", t)
            b1 = _median(results, "dense_tall", "bare syrk+cholesky", t)
            if cf and rd:
                out.append(
                    _target(
                        f"closed_form vs Ridge(auto), dense tall, {t} thread(s)",
                        rd / cf,
                        ">= 3x faster",
                        rd / cf >= 3,
                        f"{cf:.3g}s vs {rd:.3g}s",
                    )
                )
            if cf and bb:
                out.append(
                    _target(
                        f"closed_form vs bare blocked syrk+Cholesky, {t} thread(s)",
                        cf / bb,
                        "<= 1.3x",
                        cf / bb <= 1.3,
                        f"{cf:.3g}s vs {bb:.3g}s (one-call syrk floor {_fmt(b1)}s: {_fmt(cf / b1 if b1 else None, '.2f')}x)",
                    )
                )
            out.extend(_peer_margins(results, "dense_tall", "l2gd closed_form", t))
        mem = probs["dense_tall"]["memory"].get("l2gd closed_form", {})
        if "tracemalloc_ratio_X" in mem:
            r = mem["tracemalloc_ratio_X"]
            rmem = probs["dense_tall"]["memory"].get("Ridge auto", {})
            out.append(
                _target(
                    "closed_form extra peak memory / X, dense tall",
                    r,
                    "<= 0.25",
                    r <= 0.25,
                    f"tracemalloc {r:.3f}x X, RSS {mem['rss_ratio_X']:.3f}x X; Ridge(auto): tracemalloc {_fmt(rmem.get('tracemalloc_ratio_X'), '.2f')}x, RSS {_fmt(rmem.get('rss_ratio_X'), '.2f')}x",
                )
            )
    for name in ("dense_wide", "sparse"):
        if name not in probs:
            continue
        rt = probs[name]["retimed"]["results"]
        gd = rt.get("l2gd gd cg", {}).get("median")
        refs = {k: rt.get(k, {}).get("median") for k in ("Ridge lsqr", "Ridge sparse_cg")}
        best = min([v for v in refs.values() if v] or [None]) if any(refs.values()) else None
        if gd and best:
            out.append(
                _target(
                    f"gd (cg) time to 1e-6 vs min(lsqr, sparse_cg), {name}",
                    gd / best,
                    "<= 1.0x",
                    gd <= best,
                    f"gd {gd:.3g}s, lsqr {_fmt(refs['Ridge lsqr'])}s, sparse_cg {_fmt(refs['Ridge sparse_cg'])}s",
                )
            )
        else:
            out.append(
                _target(
                    f"gd (cg) time to 1e-6 vs min(lsqr, sparse_cg), {name}",
                    None,
                    "<= 1.0x",
                    None,
                    f"not measured (gd {gd}, refs {refs})",
                )
            )
    for name in ("dense_tall", "dense_wide", "sparse"):
        pi = probs.get(name, {}).get("per_iteration", {}).get(name)
        if pi:
            for acc in ("cg", "nesterov", "none"):
                r = pi.get(acc, {}).get("ratio_to_floor")
                if r is not None:
                    out.append(
                        _target(
                            f"gd ({acc}) cost per iteration / (X@w + X.T@r), {name}",
                            r,
                            "<= 1.3x",
                            r <= 1.3,
                            f"{pi[acc]['per_iter'] * 1e3:.3g} ms vs floor {pi['floor_matvec_rmatvec'] * 1e3:.3g} ms",
                        )
                    )
    if "multitarget" in probs:
        out.extend(_peer_margins(results, "multitarget", "l2gd closed_form", threads[0]))
    mt = probs.get("multitarget", {}).get("multitarget", {})
    for name in ("l2gd closed_form", "l2gd gd cg"):
        row = mt.get(name, {})
        if "speedup" in row:
            out.append(
                _target(
                    f"multi-target one fit vs single fits, {name}",
                    row["speedup"],
                    ">= 5x",
                    row["speedup"] >= 5,
                    f"{row['one_fit']:.3g}s vs {row['single_fits']:.3g}s",
                )
            )
    f32 = probs.get("dense_tall_f32", {}).get("float32", {})
    for name in ("l2gd closed_form", "l2gd gd cg"):
        row = f32.get("fits", {}).get(name, {})
        if "speedup" in row:
            out.append(
                _target(
                    f"float32 vs float64 fit, dense tall, {name}",
                    row["speedup"],
                    ">= 1.5x",
                    row["speedup"] >= 1.5,
                    f"{row['f32']:.3g}s vs {row['f64']:.3g}s; rel error f32 {row['rel_error_f32']:.1e} (float32 eps {f32['float32_eps']:.1e})",
                )
            )
    pi32 = f32.get("per_iteration", {})
    if pi32.get("f32", {}).get("cg", {}).get("per_iter") and pi32.get("f64", {}).get("cg", {}).get(
        "per_iter"
    ):
        a, b = pi32["f32"]["cg"]["per_iter"], pi32["f64"]["cg"]["per_iter"]
        out.append(
            _target(
                "float32 vs float64 gd cost per iteration, dense tall",
                b / a,
                ">= 1.5x",
                b / a >= 1.5,
                f"{a * 1e3:.3g} ms vs {b * 1e3:.3g} ms",
            )
        )
    if "l2gd sgd" in probs.get("dense_tall", {}).get("curves", {}):
        curves = probs["dense_tall"]["curves"]
        sgdr = probs["dense_tall"]["fits"].get("SGDRegressor", {})
        t_ref = sgdr.get("times", {}).get(str(threads[0]), {}).get("median")
        e_ref = sgdr.get("rel_error")
        pts = [p for p in curves["l2gd sgd"]["points"] if p["rel_error"] <= (e_ref or 0)]
        if t_ref and pts:
            t = min(p["time"] for p in pts)
            out.append(
                _target(
                    "sgd time to SGDRegressor's default accuracy, dense tall",
                    t / t_ref,
                    "<= 0.5x",
                    t / t_ref <= 0.5,
                    f"{t:.3g}s vs {t_ref:.3g}s at rel error {e_ref:.2e}",
                )
            )
        else:
            out.append(
                _target(
                    "sgd time to SGDRegressor's default accuracy, dense tall",
                    None,
                    "<= 0.5x",
                    False,
                    f"sgd never reached SGDRegressor's rel error {e_ref}",
                )
            )
        wide = probs.get("dense_wide", {}).get("fits", {})
        e_sgd = wide.get("l2gd sgd", {}).get("rel_error")
        e_skl = wide.get("SGDRegressor", {}).get("rel_error")
        if e_sgd is not None:
            out.append(
                _target(
                    "sgd finite on dense wide",
                    e_sgd,
                    "finite",
                    bool(np.isfinite(e_sgd)),
                    f"sgd rel error {e_sgd:.2e}, SGDRegressor {_fmt(e_skl, '.2e')}",
                )
            )
    cv = results.get("cv", {}).get("results", {})
    gcv = cv.get("GDRidgeCV K-fold", {}).get("median")
    if gcv:
        gs = cv.get("GridSearchCV(Ridge) K-fold", {}).get("median")
        rcv = cv.get("RidgeCV K-fold", {}).get("median")
        if gs:
            out.append(
                _target(
                    "GDRidgeCV K-fold vs GridSearchCV(Ridge)",
                    gs / gcv,
                    ">= 10x",
                    gs / gcv >= 10,
                    f"{gcv:.3g}s vs {gs:.3g}s",
                )
            )
        if rcv:
            out.append(
                _target(
                    "GDRidgeCV K-fold vs RidgeCV(cv=K)",
                    rcv / gcv,
                    "> 1x",
                    rcv > gcv,
                    f"{gcv:.3g}s vs {rcv:.3g}s",
                )
            )
        loo, rloo = (
            cv.get("GDRidgeCV LOO", {}).get("median"),
            cv.get("RidgeCV LOO", {}).get("median"),
        )
        if loo and rloo:
            out.append(
                _target(
                    "GDRidgeCV LOO vs RidgeCV LOO",
                    rloo / loo,
                    ">= 1x",
                    loo <= rloo,
                    f"{loo:.3g}s vs {rloo:.3g}s",
                )
            )
    elif cv:
        out.append(
            _target(
                "CV targets",
                None,
                "see GDRidgeCV issue",
                None,
                "GDRidgeCV not available in this run",
            )
        )
    sc = results.get("scaling", {}).get("slope", {})
    for name in ("l2gd closed_form", "l2gd gd cg"):
        if name in sc:
            s = sc[name]
            out.append(
                _target(
                    f"scaling exponent of fit time in n_samples, {name}",
                    s,
                    "~1 (linear)",
                    0.8 <= s <= 1.2,
                    f"log-log slope over n={results['scaling']['ns'][0]:,}..{results['scaling']['ns'][-1]:,}",
                )
            )
    return out


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(results):
    env = results["environment"]
    threads = results["threads"]
    lines = [f"# l2gd benchmarks ({results['mode']} run)", ""]
    lines.append(
        f"Run {env['date']}, {results['wall_time_s']:.0f} s wall. Generated by `benchmarks/run.py`; all contenders in one process, interleaved round-robin, medians of repeats."
    )
    lines.append("")
    cpu = env["cpu"]
    lines.append(
        f"**Machine**: {cpu.get('Model name', '?')}, {cpu.get('CPU(s)', '?')} CPUs ({cpu.get('Hypervisor vendor', 'no hypervisor reported')}), {env['memory_total']} RAM, {env['platform']}. SIMD: {cpu.get('Flags', '')}. Load average at start {tuple(round(x, 2) for x in env['loadavg_start'])}, at end {tuple(round(x, 2) for x in env.get('loadavg_end', ()))}."
    )
    lines.append("")
    lines.append("**Versions**: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()))
    lines.append("")
    lines.append(
        "**BLAS**: "
        + "; ".join(
            f"{b['internal_api']} {b['version']} ({b['architecture']}, {b['num_threads']} threads, {str(b['filepath']).split('/')[-1]})"
            for b in env["blas"]
        )
    )
    lines.append("")
    for note in results["notes"]:
        lines.append(f"- Note: {note}")
    lines.append("")
    lines.append("## Targets")
    lines.append("")
    rows = []
    for t in results["targets"]:
        met = {True: "met", False: "**not met**", None: "n/a"}[t["met"]]
        rows.append([t["target"], _fmt(t["value"], ".3g"), t["goal"], met, t["detail"]])
    lines.append(_table(["target", "value", "goal", "status", "detail"], rows))
    lines.append("")
    for name, pr in results["problems"].items():
        s = pr["problem"]
        lines.append(f"## {name}: {s['description']}")
        lines.append("")
        lines.append(
            f"X {s['X_MB']:.1f} MB, alpha={s['alpha']:g}, reference: {s['reference']}"
            + (
                f" (certified rel. error <= {s['reference_rel_error_bound']:.1e})"
                if s["reference_rel_error_bound"]
                else ""
            )
            + "."
        )
        lines.append("")
        header = (
            ["contender"]
            + [f"fit s ({t} thr)" for t in threads]
            + ["iters", "ran", "rel err", "peak extra MB (xX) tracemalloc", "RSS xX"]
            + [f"t->{k}" for k in ("1e-2", "1e-4", "1e-6", "1e-8")]
        )
        rows = []
        for cname, row in pr["fits"].items():
            if "error" in row:
                rows.append([cname, "error: " + row["error"][:80]] + [""] * (len(header) - 2))
                continue
            mem = pr["memory"].get(cname, {})
            curve = pr["curves"].get(cname, {}).get("time_to", {})
            mem_s = (
                f"{mem['tracemalloc_peak'] / 2**20:.1f} ({mem['tracemalloc_ratio_X']:.2f})"
                if "tracemalloc_peak" in mem
                else "-"
            )
            rss_s = _fmt(mem.get("rss_ratio_X"), ".2f")
            tt = [_fmt((curve.get(k) or {}).get("time"), ".3g") for k in LEVEL_KEYS]
            ran = row.get("solver_ran") or ""
            rows.append(
                [cname]
                + [_fmt(row["times"].get(str(t), {}).get("median")) for t in threads]
                + [
                    _fmt(row.get("n_iter"), "d"),
                    ran,
                    _fmt(row.get("rel_error"), ".1e"),
                    mem_s,
                    rss_s,
                ]
                + tt
            )
        lines.append(_table(header, rows))
        lines.append("")
        if pr["skipped"]:
            lines.append(
                "Skipped: " + "; ".join(f"{k} ({v})" for k, v in pr["skipped"].items()) + "."
            )
            lines.append("")
        rt = pr["retimed"]
        ok = {k: v for k, v in rt["results"].items() if "median" in v}
        if ok:
            lines.append(
                f"Time to rel. error {rt['level']:g}, re-timed (median, {rt['threads']} thread(s)) at the loosest tol that reached it: "
                + ", ".join(
                    f"{k} {v['median']:.3g}s (tol {_fmt(v['tol'], '.0e', 'default')})"
                    for k, v in sorted(ok.items(), key=lambda kv: kv[1]["median"])
                )
                + "."
            )
            lines.append("")
        if "per_iteration" in pr:
            for label, row in pr["per_iteration"].items():
                parts = [f"floor X@w + X.T@r {row['floor_matvec_rmatvec'] * 1e3:.3g} ms"]
                for acc in ("cg", "nesterov", "none"):
                    r = row.get(acc, {})
                    if r.get("per_iter") is not None:
                        parts.append(
                            f"gd {acc} {r['per_iter'] * 1e3:.3g} ms ({r['ratio_to_floor']:.2f}x), setup {r['setup'] * 1e3:.3g} ms"
                        )
                lines.append(f"Per-iteration cost ({label}): " + "; ".join(parts) + ".")
                lines.append("")
        if "multitarget" in pr:
            rows = [
                [
                    k,
                    _fmt(v.get("one_fit")),
                    _fmt(v.get("single_fits")),
                    _fmt(v.get("speedup"), ".1f"),
                    _fmt(v.get("rel_error"), ".1e"),
                ]
                for k, v in pr["multitarget"].items()
            ]
            lines.append("Multi-target, one fit of all targets vs one fit per target:")
            lines.append("")
            lines.append(
                _table(["contender", "one fit s", "single fits s", "speedup", "rel err"], rows)
            )
            lines.append("")
        if "float32" in pr:
            f = pr["float32"]
            rows = [
                [
                    k,
                    _fmt(v.get("f32")),
                    _fmt(v.get("f64")),
                    _fmt(v.get("speedup"), ".2f"),
                    _fmt(v.get("rel_error_f32"), ".1e"),
                    _fmt(v.get("rel_error_f64"), ".1e"),
                ]
                for k, v in f["fits"].items()
            ]
            lines.append("float32 against float64 on the same data (interleaved):")
            lines.append("")
            lines.append(
                _table(
                    ["contender", "f32 s", "f64 s", "speedup", "rel err f32", "rel err f64"], rows
                )
            )
            lines.append("")
            pi = f["per_iteration"]
            lines.append(
                "gd (cg) per iteration: "
                + ", ".join(
                    f"{k} {_fmt((v.get('cg') or {}).get('per_iter', 0) * 1e3)} ms (floor {v['floor_matvec_rmatvec'] * 1e3:.3g} ms)"
                    for k, v in pi.items()
                )
                + "."
            )
            lines.append("")
    if "cv" in results:
        cv = results["cv"]
        lines.append(
            f"## CV problem: n={cv['n_samples']:,} p={cv['n_features']}, {cv['folds']} folds x {cv['n_alphas']} alphas"
        )
        lines.append("")
        rows = [
            [
                k,
                _fmt(v.get("median")),
                v.get("n"),
                _fmt(v.get("alpha_"), ".4g"),
                _fmt(v.get("best_score_"), ".6g"),
                v.get("error", ""),
            ]
            for k, v in cv["results"].items()
        ]
        lines.append(
            _table(["contender", "fit s", "runs", "alpha_", "best_score_", "error"], rows)
        )
        lines.append("")
        for note in cv.get("notes", []):
            lines.append(f"- {note}")
        if isinstance(cv.get("bench_cv"), str):
            lines.append(f"- {cv['bench_cv']}")
        lines.append("")
    if "scaling" in results:
        sc = results["scaling"]
        lines.append(f"## Scaling in n_samples (p={sc['p']}, dense float64)")
        lines.append("")
        rows = [
            [f"{n:,}"] + [_fmt(sc["times"][k][i]) for k in sc["times"]]
            for i, n in enumerate(sc["ns"])
        ]
        lines.append(_table(["n_samples"] + [f"{k} s" for k in sc["times"]], rows))
        lines.append("")
        lines.append(
            "log-log slopes: " + ", ".join(f"{k} {v:.2f}" for k, v in sc["slope"].items())
        )
        lines.append("")
    if results.get("plots"):
        lines.append("## Plots")
        lines.append("")
        for p in results["plots"]:
            if p.endswith(".png"):
                lines.append(f"![{p}]({p})")
            else:
                lines.append(f"- {p}")
        lines.append("")
    return "\n".join(lines)


def plots(results, out_dir, mode):
    """Write PNG plots; return their file names (or a note when matplotlib is absent)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return ["plots skipped: matplotlib is not installed (pip install 'l2gd[plot]')"]
    written = []
    probs = results["problems"]
    if probs:
        k = len(probs)
        cols = min(3, k)
        rows = int(np.ceil(k / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 4.5 * rows), squeeze=False)
        names = sorted({c for pr in probs.values() for c in pr["curves"]})
        cmap = plt.get_cmap("tab20")
        colors = {c: cmap(i % 20) for i, c in enumerate(names)}
        for ax, (name, pr) in zip(axes.ravel(), probs.items(), strict=False):
            for cname, curve in pr["curves"].items():
                pts = sorted(
                    (p for p in curve["points"] if np.isfinite(p["rel_error"])),
                    key=lambda p: p["time"],
                )
                if not pts:
                    continue
                t = [p["time"] for p in pts]
                e = [max(p["rel_error"], 1e-16) for p in pts]
                ours = cname.startswith("l2gd")
                ax.loglog(
                    t,
                    e,
                    marker="o" if len(pts) > 1 else "s",
                    ms=3,
                    label=cname,
                    color=colors[cname],
                    lw=1.8 if ours else 0.9,
                    ls=("-" if ours else "--") if len(pts) > 1 else "none",
                )
            for lv in (1e-2, 1e-4, 1e-6, 1e-8):
                ax.axhline(lv, color="grey", lw=0.3)
            ax.set_title(name)
            ax.set_xlabel("fit time (s)")
            ax.set_ylabel("relative error of coef_")
            ax.legend(fontsize=6)
        for ax in axes.ravel()[k:]:
            ax.axis("off")
        fig.tight_layout()
        fname = f"{mode}_time_vs_accuracy.png"
        fig.savefig(out_dir / fname, dpi=90)
        plt.close(fig)
        written.append(fname)

        fig, axes = plt.subplots(rows, cols, figsize=(6 * cols, 4.5 * rows), squeeze=False)
        for ax, (name, pr) in zip(axes.ravel(), probs.items(), strict=False):
            names = [n for n, m in pr["memory"].items() if "tracemalloc_ratio_X" in m]
            vals = [pr["memory"][n]["tracemalloc_ratio_X"] for n in names]
            rss = [pr["memory"][n]["rss_ratio_X"] for n in names]
            y = np.arange(len(names))
            ax.barh(y - 0.2, vals, 0.4, label="tracemalloc peak")
            ax.barh(y + 0.2, rss, 0.4, label="RSS peak growth")
            ax.set_yticks(y, names, fontsize=7)
            ax.axvline(0.25, color="red", lw=0.8, label="target 0.25x X")
            ax.set_xlabel("peak extra memory / size of X")
            ax.set_title(name)
            ax.legend(fontsize=6)
        for ax in axes.ravel()[k:]:
            ax.axis("off")
        fig.tight_layout()
        fname = f"{mode}_memory.png"
        fig.savefig(out_dir / fname, dpi=90)
        plt.close(fig)
        written.append(fname)
    if "scaling" in results:
        sc = results["scaling"]
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for name, ts in sc["times"].items():
            pts = [(n, t) for n, t in zip(sc["ns"], ts, strict=False) if t]
            if pts:
                ax.loglog(
                    *zip(*pts, strict=False),
                    "-o",
                    label=f"{name} (slope {sc['slope'].get(name, float('nan')):.2f})",
                )
        n0, n1 = sc["ns"][0], sc["ns"][-1]
        ref = [t for t in sc["times"].get("l2gd closed_form", []) if t]
        if ref:
            ax.loglog([n0, n1], [ref[0], ref[0] * n1 / n0], "k:", lw=0.8, label="linear")
        ax.set_xlabel("n_samples")
        ax.set_ylabel("fit time (s)")
        ax.set_title(f"fit time vs n_samples (p={sc['p']})")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fname = f"{mode}_scaling.png"
        fig.savefig(out_dir / fname, dpi=90)
        plt.close(fig)
        written.append(fname)
    return written
