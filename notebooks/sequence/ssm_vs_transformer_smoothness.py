# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Token selection with state-space layers: do two SSM + FNN layers match attention?
#
# **Paper.** {cite}`nishikawa2024ssm`.
#
# **Claim.** The paper asks whether state-space models (SSMs) can replace transformers
# as estimators of sequence-to-sequence functions whose output depends on *which* tokens
# matter, where "which" changes from input to input. It studies the plainest kind of SSM
# — a linear, time-invariant (input-independent) long convolution — with a token-wise
# feed-forward network (FNN) after each SSM layer. Its first version proves that such
# networks reach the same estimation rates as transformers on classes of functions with
# direction- and input-dependent smoothness; its second version recasts the result as
# *dynamic token selection*: an FNN before and after an SSM layer can emulate a
# key–query match, so **two** SSM + FNN layers can solve input copying and associative
# recall, tasks that a **single** SSM layer cannot solve. The second version's appendix
# figure (Fig. C.1) trains one- and two-layer SSM + FNN networks (FNNs of several
# depths) and a transformer on the two tasks and reports that two layers with an
# expressive enough FNN perform comparably to the transformer and better than one layer.
# This chapter mirrors that figure with one fixed FNN depth (two GELU MLPs per layer)
# and five seeds per model and task.
#
# The models come from `replib.seqmodel`: the SSM layer is a diagonal S4D-style long
# convolution with no nonlinearity of its own (`DiagonalSSM`), so all the nonlinearity
# sits in the FNNs, as in the paper.
#
# **Negative control.** Plain copying, where the tokens to copy always stand at the same
# positions: the output is a fixed delay of the input, which one time-invariant
# convolution represents exactly. No dynamic selection is needed, so the advantage of
# the second SSM layer must vanish there.

# %% tags=["remove-cell"]
# Colab: install the book's library (at the release this chapter was written against).
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "replib @ git+https://github.com/theory-replicated/theory-replicated@v0.1.0"], check=True)

# %% tags=["parameters"]
SCALE = "book"  # smoke (~30 s, 2 CPU cores) | book (~3 min) | full (large, GPU)
SEED = 0

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from replib import Chapter, progress
from replib.fitting import seed_interval
from replib.plotting import panel_curves, use_book_style
from replib.seqmodel import train_and_evaluate
from replib.sequence import task_splits

ch = Chapter("sequence/ssm_vs_transformer_smoothness", scale=SCALE, seed=SEED,
             cite="nishikawa2024ssm",
             claim="Two layers of SSM + FNN select tokens dynamically (copying, "
                   "associative recall) as well as a transformer, and better than one "
                   "layer")
cfg = ch.settings(
    smoke=dict(length=16, copies=2, width=32, train=800, test=200, seeds=5, batch=16,
               steps={"selective copying": 100, "in-context recall": 100,
                      "plain copying": 60}, every=20),
    book=dict(length=32, copies=4, width=32, train=3200, test=500, seeds=5, batch=32,
              steps={"selective copying": 400, "in-context recall": 550,
                     "plain copying": 150}, every=50),
    full=dict(length=64, copies=8, width=64, train=12800, test=1280, seeds=5, batch=64,
              steps={"selective copying": 5000, "in-context recall": 5000,
                     "plain copying": 1000}, every=250),
)
use_book_style()
# tiny vmapped models (width 32): a second thread only adds synchronisation
# (7x slower on a loaded 2-core machine in our timing)
torch.set_num_threads(1)
ONE, TWO = "SSM + FNN(2), 1 layer", "SSM + FNN(2), 2 layers"
TF = "transformer, 2 layers"
ARCHITECTURES = {
    ONE: ("ssm", "mlp", "mlp"),
    TWO: ("ssm", "mlp", "mlp", "ssm", "mlp", "mlp"),
    TF: ("attention", "mlp", "attention", "mlp"),
}
COPY, RECALL, PLAIN = "selective copying", "in-context recall", "plain copying"
# Which models train on which task: the one-layer network is left out of recall to fit
# the budget (the two-layer one does not solve recall either, see the verdict), the
# transformer out of plain copying (the control compares the SSM networks).
RUNS = {COPY: [ONE, TWO, TF], RECALL: [TWO, TF], PLAIN: [ONE, TWO]}
# Learning rate per model and task, chosen on a validation split in pilot sweeps over
# {1e-3, 3e-3, 1e-2} (see "Differences from the paper"); plain copying uses the
# copying rate.
LR = {ONE: {COPY: 1e-2, PLAIN: 1e-2}, TWO: {COPY: 1e-2, RECALL: 1e-3, PLAIN: 1e-2},
      TF: {COPY: 3e-3, RECALL: 3e-3}}
BAR = 0.9  # the planning note's "solves the task" accuracy
CLOSE = 0.1  # "comparable to the transformer": within 10 accuracy points
GAP = 0.2  # "better than one layer": at least 20 accuracy points

# %% [markdown]
# ## The tasks
#
# All use a vocabulary of 16 tokens and `length` − 1 positions, a fixed training set of
# `train` sequences and a separate test set per model, generated as in the MAD suite
# (see the book's MAD chapter; `replib.sequence.task_splits`):
#
# * **Selective copying** — `copies` tokens scattered among blanks at random positions,
#   then a copy token; the model must output the tokens in order. Where to look depends
#   on the input.
# * **In-context recall** (the paper's associative recall) — key–value pairs with a
#   per-sequence random map, keys repeating; after a key seen before, the model must
#   output its value. Trained as a language model, scored on those values.
# * **Plain copying (control)** — selective copying with the tokens always at the start.
#
# The paper's own task definitions (Fig. C.1) were not reachable here (see
# "Differences").

# %%
seeds = range(cfg.seeds)
sizes = dict(train=cfg.train, test=cfg.test)
data = {task: task_splits([(task, s) for s in seeds], cfg.length, sizes,
                          copies=cfg.copies, seed=SEED) for task in RUNS}
print(f"{cfg.seeds} models per architecture and task, "
      f"{cfg.train} training sequences each")

# %% [markdown]
# ## Training
#
# For each task, each architecture trains its `seeds` models — each with its own data
# and initialisation — as one vmapped computation
# (`replib.seqmodel.train_and_evaluate`): AdamW with a cosine decay to zero, batches of
# `batch` sequences, `steps[task]` steps, width `width`. Recall gets more steps than
# copying because the transformer's recall circuit forms abruptly after a few hundred
# steps; plain copying needs few. Test accuracy is recorded every `every` steps.

# %%
curves = []
for task, arch in progress([(t, a) for t, archs in RUNS.items() for a in archs],
                           desc="task × architecture"):
    torch.manual_seed(SEED)
    history = train_and_evaluate(
        ARCHITECTURES[arch], data[task]["train"], {"test": data[task]["test"]},
        vocab=16, length=cfg.length, width=cfg.width, steps=cfg.steps[task],
        lr=LR[arch][task], batch=cfg.batch, every=cfg.every,
        generator=torch.Generator().manual_seed(SEED))["test"]
    curves += [dict(architecture=arch, task=task, seed=s, step=step, accuracy=acc)
               for step, accs in history.items() for s, acc in zip(seeds, accs)]
curves = pd.DataFrame(curves)

# %%
names = list(ARCHITECTURES)
panel_curves(curves, x="step", y="accuracy", hue="architecture", panel="task",
             hue_order=names, panel_order=list(RUNS), xlabel="training step",
             ylabel="test accuracy (scored positions)", ylim=(0, 1.02))
plt.show()

# %% [markdown]
# ## Final accuracies
#
# Mean over the seeds at the last step, and every seed.

# %% tags=["nbval-check-output"]
last = curves.groupby(["architecture", "task"]).step.transform("max") == curves.step
final = curves[last].pivot_table(index=["architecture", "task"], columns="seed",
                                 values="accuracy")


def acc(arch, task):
    """Final test accuracy per seed (seed order)."""
    return final.loc[(arch, task)].to_numpy()


table = final.copy()
table.insert(0, "mean", final.mean(axis=1))
print(table.to_string(float_format=lambda v: f"{v:.3f}"))

# %% [markdown]
# ## Verdict
#
# Every comparison is between models trained on the same data (seed $s$ of one
# architecture and seed $s$ of another share their training and test sets), so each row
# takes one difference per seed and a 95 % $t$-interval over the five seeds
# (`replib.fitting.seed_interval`). A row fails only when its interval excludes the
# paper's statement, so a model that truly meets it passes with probability at least
# 97.5 % (a one-sided test at 2.5 %).
#
# * **Comparable to the transformer** (headline, copying; and recall): the two-layer
#   SSM's accuracy is not shown to be below the planning note's bar of 0.9, and its
#   deficit to the transformer is not shown to exceed 0.1. On recall this needs the
#   transformer itself to solve the task (mean ≥ 0.9); otherwise the row fails as
#   untested.
# * **Two beat one** (copying): the two-layer SSM's gain over the one-layer SSM is not
#   shown to be below 0.2.
# * **Control**: on plain copying the same gain must be shown to be below 0.2.

# %% tags=["nbval-check-output"]
def comparable(task):
    two = seed_interval(acc(TWO, task))
    gap = seed_interval(acc(TF, task) - acc(TWO, task))
    return two, gap, two.ci[1] >= BAR and gap.ci[0] <= CLOSE


why_cmp = (f"planning note's bar: accuracy >= {BAR} and within {CLOSE} of the "
           "transformer; fails only if the 95 % t-interval over 5 seed-paired runs "
           "excludes either, so a model meeting both passes with probability >= 95 %")
two, gap, ok = comparable(COPY)
HEAD = "selective copying: 2-layer SSM + FNN comparable to the transformer"
ch.check_claim(HEAD, paper=f"acc >= {BAR}, transformer − SSM <= {CLOSE}",
               ours=gap.value, ci=gap.ci, passed=ok, headline=True, why=why_cmp,
               note=f"transformer − SSM; SSM accuracy {two.value:.3f} "
                    f"[{two.ci[0]:.3f}, {two.ci[1]:.3f}]")
two, gap, ok = comparable(RECALL)
learned = acc(TF, RECALL).mean() >= BAR
ch.check_claim("recall: 2-layer SSM + FNN comparable to the transformer",
               paper=f"acc >= {BAR}, transformer − SSM <= {CLOSE}", ours=gap.value,
               ci=gap.ci, passed=learned and ok,
               why=why_cmp + "; counted only where the transformer solves recall "
                   f"(mean >= {BAR}), else untested",
               note=(f"transformer − SSM; SSM accuracy {two.value:.3f} "
                     f"[{two.ci[0]:.3f}, {two.ci[1]:.3f}]")
               if learned else "untested: the transformer did not solve recall")

why_gap = (f"paper: two layers beat one; planning note's margin {GAP}; fails only if "
           "the 95 % t-interval over 5 seed-paired runs lies below it (a true gain >= "
           f"{GAP} passes with probability >= 97.5 %)")
gain = seed_interval(acc(TWO, COPY) - acc(ONE, COPY))
ch.check_claim("copying: 2 − 1 SSM layers", paper=f">= {GAP}", ours=gain.value,
               ci=gain.ci, passed=gain.ci[1] >= GAP, why=why_gap)
gain = seed_interval(acc(TWO, PLAIN) - acc(ONE, PLAIN))
ch.control("plain copying: 2 − 1 SSM layers", paper=f"< {GAP}", ours=gain.value,
           ci=gain.ci, passed=gain.ci[1] < GAP,
           why="fixed positions remove the dynamic selection the second layer "
               "is needed for: one time-invariant convolution is a fixed delay, so "
               f"the gain must be below {GAP} (its 95 % t-interval lies below it)")
solved = min(acc(a, PLAIN).mean() for a in (ONE, TWO))
ch.sanity("plain copying: both SSM networks solve a fixed delay", paper=f">= {BAR}",
          ours=solved, passed=solved >= BAR,
          note="the SSM layer, FNNs and training work at all (lowest mean accuracy)")

ch.paper_claim("Two SSM + FNN layers with an expressive enough FNN perform comparably "
               "to a transformer on input copying (Fig. C.1, left)", row=HEAD)
ch.paper_claim("... and on associative recall (Fig. C.1, right)",
               row="recall: 2-layer SSM + FNN comparable to the transformer")
ch.paper_claim("Two SSM + FNN layers outperform one on input copying (Fig. C.1)",
               row="copying: 2 − 1 SSM layers")
ch.paper_claim("Two SSM + FNN layers outperform one on associative recall (Fig. C.1)",
               tested="no",
               note="the one-layer network is not trained on recall, to fit the "
                    "budget; the two-layer one does not solve recall either (the "
                    "recall row), so the comparison is moot here")
ch.paper_claim("Two SSM layers with FNNs before and after can solve input copying and "
               "associative recall with parameters growing only poly-logarithmically "
               "(Sec. 3, constructions)", tested="no",
               note="we train small networks; neither the construction nor the "
                    "parameter scaling in the vocabulary and length is examined")
ch.paper_claim("SSM + FNN networks estimate piecewise γ-smooth sequence functions at "
               "the transformer's rate, up to poly-log factors (Sec. 4, main theorems)",
               tested="not testable here",
               note="an asymptotic rate over infinite-dimensional function classes; "
                    "the paper reports no experiment on it")
ch.paper_claim("On genomic benchmarks, important tokens are sparse and "
               "input-dependent, as the theory assumes (Sec. 5)",
               tested="not testable here",
               note="needs the genomic data and trained large models")
ch.verdict()

# %% [markdown]
# **Reading the result.** Selective copying is where the paper's picture shows: one SSM
# + FNN layer — a single time-invariant convolution, whatever nonlinearity follows it —
# stalls low, because it cannot decide *where* to read from the content of the sequence,
# and two layers climb well above it. Whether they get close enough to the transformer,
# by the planning note's bar of 0.9 and 0.1, is what the headline row decides at this
# budget; the learning curves show whether the two-layer network is still climbing when
# training stops. In-context recall is meant as a **negative result**, not an untested
# one: in the pilot the transformer formed its induction circuit and solved recall
# within about 500 steps (batch 32, rate 3e-3; the recall row counts only if it does so
# here too, see the table), while the two-layer SSM network stayed at the plateau a
# model reaches without binding values to keys (0.34–0.38 at every rate of the sweep,
# and in an earlier probe up to 4 000 steps and width 128). The paper's construction
# shows that two SSM + FNN layers *can* represent recall; plain training of this
# architecture does not find it here. Plain copying, where the positions to read are
# fixed, is the control: without dynamic selection the second layer's advantage must
# vanish.

# %% [markdown]
# ## Differences from the paper
#
# * **What we could read.** Only the abstract, the introduction and the caption of the
#   appendix figure this chapter mirrors (Fig. C.1) were reachable here; the paper's
#   task definitions, sizes, model widths and training settings were not. Ours are the
#   MAD suite's task generators at a small scale, and `full` is a "large" scale of our
#   own choosing, not the paper's.
# * **One model per row.** The paper shows FNN depths 1–3; we fix FNN depth 2 (two GELU
#   MLPs of expansion 4 after each SSM layer, the paper's "expressive enough FNN") in
#   advance for both the one- and two-layer SSM networks, rather than taking the better
#   of two variants.
# * **Learning rates.** Chosen per model and task in pilot sweeps over {1e-3, 3e-3,
#   1e-2} (one seed at the book's sizes: 800 steps of batch 16 for copying, 1 500 steps
#   of batch 32 for recall), by the final accuracy on a validation split drawn
#   separately from every test set used here. The copying rates were picked at batch 16
#   and are used at batch 32 in the book run. At 1e-2 — the rate the previous version of
#   this chapter used for every model — the transformer never formed its recall circuit
#   (0.34 at 1 500 steps, against 0.99 at 3e-3), which had made recall look untested.
# * **Estimation rates.** The paper's main theorems are about estimation rates in the
#   number of training samples, asymptotically and up to logarithmic factors; we do not
#   attempt them.
# * **The SSM layer.** The theory allows a general time-invariant SSM; ours is a
#   diagonal complex SSM with 16 modes per channel (S4D-Lin initialisation), in a
#   pre-norm residual stack.
# * **Budget.** 400 steps (copying), 550 (recall) and 150 (plain copying) of batch 32
#   for width-32 models on 31-token sequences, five seeds, to fit the 3-minute book
#   budget (the one-layer network is not trained on recall). The previous version
#   trained 800 steps with one seed; shorter training costs the SSM networks most, as
#   they learn copying more slowly than the transformer. `full` scales the tasks, models
#   and steps up for a GPU. The theory is about what the architectures can represent and
#   estimate, not how fast Adam finds it; a small budget tests both at once.
# * **Control power.** Where both SSM networks solve plain copying (the sanity row), the
#   control sits at the ceiling: it shows that the two-layer advantage vanishes without
#   dynamic selection, but not how small a gap the rows could detect.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
