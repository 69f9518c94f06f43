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
# # Do striped hybrids match the best primitive on MAD's synthetic tasks? (a miniature)
#
# **Paper.** {cite}`poli2024mad`.
#
# **Claim.** Mechanistic architecture design (MAD) scores sequence models on small synthetic token tasks
# (in-context recall, fuzzy and noisy recall, selective copying, compression, memorisation), each probing
# one capability, and the paper finds that these scores predict how architectures rank when scaled up.
# Its architectural finding is that *striped hybrids* — models that alternate different sequence mixers,
# e.g. a gated long convolution (Hyena) in one block and attention in the next — do as well as or better
# than the best single primitive on the MAD suite, and go on to scale better. The scaling-law part
# (over 500 language models up to 7B parameters) is out of reach here; this chapter is a clearly labelled
# **miniature** of the synthetic-task comparison.
#
# We generate two MAD tasks as the authors' `mad-lab` does (`replib.sequence.mad_recall`,
# `mad_selective_copy`) and train three 4-block models of the same width built from
# `replib.seqmodel`: attention (attention, MLP, attention, MLP), Hyena (Hyena, MLP, Hyena, MLP) and the
# striped hybrid (Hyena, MLP, attention, MLP).
#
# **Negative control.** Take the hybrid's convolution out (MLP, MLP, attention, MLP): one sequence mixer
# is left, and a single attention layer cannot bind a value to the key before it. If the check still
# passed, it would not be measuring what striping contributes.

# %% tags=["remove-cell"]
# Colab: install the book's library (at the release this chapter was written against).
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "replib @ git+https://github.com/theory-replicated/theory-replicated@v0.1.0"], check=True)

# %% tags=["parameters"]
SCALE = "book"  # smoke (~30 s on 2 CPU cores) | book (~3 min, the rendered page) | full (the paper's scale, GPU)
SEED = 0

# %%
import matplotlib.pyplot as plt
import pandas as pd
import torch

from replib import Chapter, progress
from replib.plotting import panel_curves, use_book_style
from replib.seqmodel import train_on_tasks
from replib.sequence import IGNORE, mad_recall, mad_selective_copy

ch = Chapter("architectures/mad_hybrid_architectures", scale=SCALE, seed=SEED, cite="poli2024mad",
             claim="Striped hybrids of attention and gated convolution match or beat the best single primitive "
                   "on MAD's synthetic tasks")
cfg = ch.settings(
    smoke=dict(length=16, copies=2, width=32, train=800, test=200, seeds=1, steps=120, batch=32, every=40),
    book=dict(length=32, copies=4, width=32, train=3200, test=500, seeds=2, steps=800, batch=32, every=100),
    full=dict(length=128, copies=16, width=128, train=12800, test=1280, seeds=3, steps=20000, batch=128, every=1000),
)
use_book_style()
LR = 1e-2  # AdamW, cosine decay to zero; see "Differences" for how it was chosen
MARGIN = 0.03  # "matches": within 3 accuracy points of the best single primitive
ARCHITECTURES = {
    "attention": ("attention", "mlp", "attention", "mlp"),
    "Hyena": ("hyena", "mlp", "hyena", "mlp"),
    "striped Hyena + attention": ("hyena", "mlp", "attention", "mlp"),
    "hybrid without Hyena (control)": ("mlp", "mlp", "attention", "mlp"),
}

# %% [markdown]
# ## The tasks
#
# * **In-context recall** (vocabulary 16: 8 keys, 8 values). Each sequence draws its own random map from
#   keys to values and lists `length`/2 key–value pairs; keys repeat, so once a key has been seen its
#   value can be recalled. As in MAD, training is next-token prediction on the whole sequence; the score
#   is the accuracy on values whose key appeared before.
# * **Selective copying** (vocabulary 16). `copies` tokens are scattered among blanks; after a copy
#   token the model must output them in order, one per position, ignoring the blanks.
#
# Each task has a fixed training set (`train` sequences) and a separate test set, as in MAD.

# %%
gen = torch.Generator().manual_seed(SEED)
x_recall, y_recall, _ = mad_recall(cfg.train, cfg.length, generator=gen)
t_recall, _, s_recall = mad_recall(cfg.test, cfg.length, generator=gen)
x_copy, y_copy = mad_selective_copy(cfg.train, cfg.length - 1, cfg.copies, generator=gen)  # same input length
t_copy, s_copy = mad_selective_copy(cfg.test, cfg.length - 1, cfg.copies, generator=gen)
TASKS = ["in-context recall", "selective copying"]
print("one in-context recall sequence (inputs, then scored targets; . = not scored):")
print(" ".join(f"{v:2d}" for v in t_recall[0].tolist()))
print(" ".join(f"{v:2d}" if v != IGNORE else " ." for v in s_recall[0].tolist()))
print("one selective copying sequence (14 = blank, 15 = copy):")
print(" ".join(f"{v:2d}" for v in t_copy[0].tolist()))
print(" ".join(f"{v:2d}" if v != IGNORE else " ." for v in s_copy[0].tolist()))

# %% [markdown]
# ## Training
#
# All models of one architecture — both tasks × `seeds` seeds — train as one vmapped computation
# (`replib.seqmodel.train_on_tasks`): AdamW at learning rate $10^{-2}$ with a cosine decay, batches of
# `batch` sequences drawn from the task's training set, `steps` steps. The test accuracy is recorded
# every `every` steps.

# %%
members = [(task, seed) for task in TASKS for seed in range(cfg.seeds)]
sources = {TASKS[0]: (x_recall, y_recall, t_recall, s_recall), TASKS[1]: (x_copy, y_copy, t_copy, s_copy)}
data = [torch.stack([sources[task][i] for task, _ in members]) for i in range(4)]  # train x, y; test x, y
curves = []
for name, layers in progress(ARCHITECTURES.items(), desc="architectures"):
    torch.manual_seed(SEED)
    history = train_on_tasks(layers, data, vocab=16, length=cfg.length, width=cfg.width, steps=cfg.steps, lr=LR,
                             batch=cfg.batch, every=cfg.every, generator=gen)
    curves += [dict(architecture=name, task=task, seed=seed, step=step, accuracy=acc)
               for step, accs in history.items() for (task, seed), acc in zip(members, accs)]
curves = pd.DataFrame(curves)

# %%
names = list(ARCHITECTURES)
panel_curves(curves, x="step", y="accuracy", hue="architecture", panel="task", hue_order=names, panel_order=TASKS,
             xlabel="training step", ylabel="test accuracy (scored positions)", ylim=(0, 1.02))
plt.show()

# %% [markdown]
# ## Final accuracies
#
# Medians over seeds at the last step; MAD's score for an architecture is its mean over tasks.

# %% tags=["nbval-check-output"]
final = curves[curves.step == cfg.steps].groupby(["architecture", "task"]).accuracy.median().unstack()[TASKS]
final["mean over tasks"] = final[TASKS].mean(axis=1)
print(final.loc[names].to_string(float_format=lambda v: f"{v:.3f}"))
print("\nper seed, last step:")
per_seed = curves[curves.step == cfg.steps].pivot_table(index="architecture", columns=["task", "seed"], values="accuracy")
print(per_seed.loc[names].to_string(float_format=lambda v: f"{v:.3f}"))

# %% [markdown]
# ## Verdict
#
# * **Striped hybrid.** Its mean accuracy over the two tasks is at least the best single primitive's
#   (attention or Hyena) minus 0.03.
# * **Control.** The hybrid without its convolution must fall short of the same bar.

# %% tags=["nbval-check-output"]
best_single = float(final.loc[["attention", "Hyena"], "mean over tasks"].max())
best_name = final.loc[["attention", "Hyena"], "mean over tasks"].idxmax()
hybrid = float(final.loc["striped Hyena + attention", "mean over tasks"])
control = float(final.loc["hybrid without Hyena (control)", "mean over tasks"])
ch.check("striped hybrid, mean accuracy vs the best single primitive",
         paper=f">= best single − {MARGIN}", ours=hybrid, passed=hybrid >= best_single - MARGIN,
         note=f"best single: {best_name}, {best_single:.3f}")
ch.control("hybrid without Hyena, mean accuracy", paper=f"< best single − {MARGIN}", ours=control,
           passed=control < best_single - MARGIN)
ch.verdict()

# %% [markdown]
# **Reading the result.** In this miniature the striped hybrid clears the bar, but read the per-seed
# table before the mean. Selective copying separates the models cleanly: the hybrid learns it fastest
# and best, Hyena alone is slowest. In-context recall, within this budget, is a coin toss for attention:
# a two-layer attention model either forms an induction circuit (and then recalls almost perfectly) or
# stalls, depending on the seed, while Hyena and the hybrid climb steadily to a middle value and are still
# rising at the last step. The hybrid does not (yet) match attention's successful seed on recall; its mean
# wins on the strength of copying. So the result supports "the hybrid is at least as good as the best
# single primitive on average" at this budget, not "the hybrid learns every capability as well as the
# best primitive does" — the paper's claim, made at a far longer training budget. The control confirms that striping is
# doing the work: without its convolution, the single attention layer cannot bind values to keys and
# fails recall.

# %% [markdown]
# ## Differences from the paper
#
# * **Scale.** MAD's baseline task settings use sequences of 128–256 tokens, 12 800 training sequences,
#   width 128 and 200 epochs (about 20 000 steps of batch 128), with a sweep over three learning rates and
#   two weight decays, keeping each architecture's best run. The `book` scale here is 32 tokens, 3 200
#   sequences, width 32 and a few hundred steps of batch 32, with one learning rate; the `full` scale
#   restores the paper's sizes and step count (a GPU job). A fixed small budget favours whatever learns
#   *fastest*, which need not be what learns *best*: the learning curves above show where each model
#   still climbs.
# * **Learning rate.** $10^{-2}$, chosen in a two-point pilot ($3\cdot10^{-3}$ and $10^{-2}$, 1 500–2 000
#   steps): $10^{-2}$ was as good or better for every architecture on both tasks. MAD's sweep tops out at
#   $10^{-3}$ with a hundredfold longer schedule.
# * **Tasks.** Two of MAD's six tasks (the planning notes' choice): in-context recall and selective
#   copying. Noisy and fuzzy recall, compression (which needs an encoder–decoder) and memorisation are
#   left out to fit the budget, so our "mean over tasks" is not MAD's aggregate score.
# * **Primitives.** Our Hyena is order 2 with a sine-network implicit filter and a 3-tap short
#   convolution, and our attention has 4 heads with learned position embeddings (MAD uses its own
#   configurations, and also Mamba, RWKV and linear-attention variants); the channel mixer is a GELU MLP
#   rather than SwiGLU.

# %% [markdown]
# ## Run info

# %%
ch.run_info()
