"""UI strings of the evaluate page: key -> {"en": ..., "zh": ...}."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "eval.title": {"en": "Dataset Evaluation", "zh": "数据集评估"},
    "eval.intro": {
        "en": "Where, and how confidently, is the model wrong? Run it once over a labelled set; every image's "
        "logits are kept, so accuracy, calibration and temperature are re-scored instantly.",
        "zh": "模型错在哪里、错得有多自信？在带标签的数据集上运行一次模型，保留每张图片的 logits，"
        "之后准确率、校准和温度都能即时重新计算。",
    },
    # data in
    "eval.source": {"en": "Data", "zh": "数据"},
    "eval.source.digits": {"en": "Built-in digits", "zh": "内置手写数字"},
    "eval.source.zip": {"en": "Upload a zip", "zh": "上传 zip"},
    "eval.source.results": {"en": "Load a results file", "zh": "载入结果文件"},
    "eval.digits.about": {
        "en": "scikit-learn's handwritten digits: the 540 held-out 8×8 images the bundled digits_cnn never saw "
        "in training. Works offline.",
        "zh": "scikit-learn 的手写数字：内置 digits_cnn 训练时从未见过的 540 张 8×8 留出图片。无需联网。",
    },
    "eval.digits.needs_model": {
        "en": "The digits set is evaluated with the small CNN trained on it ({model}); the sidebar has another "
        "model selected.",
        "zh": "手写数字集需要用在它上面训练的小型 CNN（{model}）来评估；侧边栏当前选择的是其他模型。",
    },
    "eval.digits.switch": {"en": "Switch to {model} and evaluate", "zh": "切换到 {model} 并开始评估"},
    "eval.zip.upload": {"en": "Labelled images (zip)", "zh": "带标签的图片（zip）"},
    "eval.zip.help": {
        "en": "One folder per class (class/image.jpg), named by label (espresso), ImageNet WordNet id "
        "(n07920052) or class index (967); or any layout with a labels.csv (filename,label). "
        "The zip is read in memory, never extracted; unusable files are listed and skipped.",
        "zh": "每个类别一个文件夹（类别/图片.jpg），文件夹名可以是标签名（espresso）、ImageNet WordNet ID"
        "（n07920052）或类别索引（967）；也可以是任意结构加一个 labels.csv（filename,label）。"
        "zip 只在内存中读取，从不解压；无法使用的文件会被列出并跳过。",
    },
    "eval.results.upload": {"en": "Results file (CSV or Parquet)", "zh": "结果文件（CSV 或 Parquet）"},
    "eval.results.help": {
        "en": "A file downloaded from this page or written by `python -m core evaluate --out`: it holds every "
        "image's logits, so nothing is re-run.",
        "zh": "从本页下载的文件，或由 `python -m core evaluate --out` 写出的文件：其中保存了每张图片的 logits，"
        "无需重新运行模型。",
    },
    "eval.set_summary": {
        "en": "{n} images in {classes} classes ready to evaluate · skipped: {skipped}.",
        "zh": "{n} 张图片、{classes} 个类别可供评估 · 跳过：{skipped} 个文件。",
    },
    "eval.run": {"en": "Evaluate {n} images with {model}", "zh": "用 {model} 评估 {n} 张图片"},
    "eval.rerun": {"en": "Evaluate again", "zh": "重新评估"},
    "eval.ray.toggle": {"en": "Run on Ray", "zh": "在 Ray 上运行"},
    "eval.ray.help": {
        "en": "Ray Data: images decoded in Ray tasks, the model in a pool of Ray actors (one per GPU or CPU); "
        "the same results as a run here. Needs ray[data].",
        "zh": "Ray Data：图片在 Ray 任务中解码，模型在 Ray actor 池中运行（每个 GPU 或 CPU 一个）；"
        "结果与在本机运行相同。需要安装 ray[data]。",
    },
    "eval.ray.address": {
        "en": "Ray cluster address (empty: start a local Ray for this run)",
        "zh": "Ray 集群地址（留空：为本次运行启动本地 Ray）",
    },
    "eval.progress.start": {"en": "Starting: {total} images…", "zh": "开始：共 {total} 张图片…"},
    "eval.progress": {
        "en": "{done} / {total} images · {rate:.0f} images/s",
        "zh": "{done} / {total} 张图片 · 每秒 {rate:.0f} 张",
    },
    "eval.nothing_decoded": {
        "en": "No image could be evaluated ({errors} errors):",
        "zh": "没有任何图片能被评估（{errors} 个错误）：",
    },
    # temperature and headline metrics
    "eval.temperature": {"en": "Temperature T", "zh": "温度 T"},
    "eval.temperature_help": {
        "en": "Re-scores the kept logits as softmax(z / T) instantly; the model is not run again. "
        "Accuracy never changes with T, calibration does.",
        "zh": "用 softmax(z / T) 即时重新计算已保存的 logits，不会重新运行模型。准确率不随 T 改变，校准会。",
    },
    "eval.use_fitted": {"en": "Use the fitted T = {t:.3f}", "zh": "使用拟合的 T = {t:.3f}"},
    "eval.temperature.fitted_stop": {"en": "{t:.3f} (fitted)", "zh": "{t:.3f}（拟合）"},
    "eval.bins": {"en": "Calibration bins", "zh": "校准分箱数"},
    "eval.headline": {"en": "Headline metrics", "zh": "核心指标"},
    "eval.headline_caption": {
        "en": "{n} images · model {model} · {source}",
        "zh": "{n} 张图片 · 模型 {model} · {source}",
    },
    "eval.run_caption": {
        "en": "Ran in {seconds:.1f} s · {rate:.0f} images/s · on {backend}",
        "zh": "用时 {seconds:.1f} 秒 · 每秒 {rate:.0f} 张 · 运行于 {backend}",
    },
    "eval.at_one": {"en": "At T = 1 (the model as it is)", "zh": "T = 1（模型原样输出）"},
    "eval.at_t": {"en": "At T = {t:g} (the slider)", "zh": "T = {t:g}（滑块当前值）"},
    "eval.move_slider": {
        "en": "Move the temperature slider to compare these with any other T.",
        "zh": "拖动温度滑块，可与任意其他 T 下的指标对比。",
    },
    "eval.metric.top1": {"en": "Top-1 accuracy", "zh": "Top-1 准确率"},
    "eval.metric.top1_help": {
        "en": "Share of images whose largest logit is the true class.",
        "zh": "最大 logit 恰为真实类别的图片所占比例。",
    },
    "eval.metric.top5": {"en": "Top-5 accuracy", "zh": "Top-5 准确率"},
    "eval.metric.top5_help": {
        "en": "Share of images whose true class is among the 5 largest logits.",
        "zh": "真实类别位于前 5 大 logits 之中的图片所占比例。",
    },
    "eval.metric.ece": {"en": "ECE", "zh": "ECE"},
    "eval.metric.ece_help": {
        "en": "Expected calibration error: the gap between confidence and accuracy, averaged over the "
        "confidence bins and weighted by how many images fall in each. 0 is perfect.",
        "zh": "期望校准误差：各置信度分箱中置信度与准确率之差，按每个分箱的图片数加权平均。0 为完美。",
    },
    "eval.metric.nll": {"en": "NLL", "zh": "NLL"},
    "eval.metric.nll_help": {
        "en": "Negative log-likelihood of the true class, in nats (the cross-entropy loss). Lower is better.",
        "zh": "真实类别的负对数似然，单位为 nats（即交叉熵损失）。越低越好。",
    },
    "eval.metric.mce": {"en": "MCE", "zh": "MCE"},
    "eval.metric.mce_help": {
        "en": "Maximum calibration error: the largest gap of any non-empty bin. A bin with one image can "
        "make it large; look at the bin counts.",
        "zh": "最大校准误差：所有非空分箱中最大的差距。只有一张图片的分箱也可能让它很大；请结合分箱计数来看。",
    },
    "eval.metric.brier": {"en": "Brier score", "zh": "Brier 分数"},
    "eval.metric.brier_help": {
        "en": "Mean squared distance between the probabilities and the one-hot truth (0 perfect, 2 worst).",
        "zh": "概率与 one-hot 真实标签之间的平均平方距离（0 为完美，2 为最差）。",
    },
    "eval.fitted": {
        "en": "Temperature scaling fitted T = {t:.3f} (LBFGS on log T, minimising NLL): "
        "NLL {nll:.4f} → {nll_after:.4f}, ECE {ece:.2%} → {ece_after:.2%}.",
        "zh": "温度缩放拟合得到 T = {t:.3f}（对 log T 用 LBFGS 最小化 NLL）："
        "NLL {nll:.4f} → {nll_after:.4f}，ECE {ece:.2%} → {ece_after:.2%}。",
    },
    "eval.probabilities_warning": {
        "en": "These outputs look like probabilities (each row in [0, 1], summing to 1), not logits. "
        "Softmax on them is a double softmax, and temperature scaling cannot calibrate them "
        "(a known reason for ECE getting worse after temperature scaling). Export the raw logits instead.",
        "zh": "这些输出看起来是概率（每行都在 [0, 1] 内且和为 1），而不是 logits。对它们做 softmax 就是双重 "
        "softmax，温度缩放也无法校准它们（这正是“温度缩放后 ECE 反而变差”的常见原因）。请改为导出原始 logits。",
    },
    "eval.skipped": {"en": "Skipped or failed: {n} (with the reasons)", "zh": "被跳过或失败：{n} 个（附原因）"},
    "eval.col.file": {"en": "file", "zh": "文件"},
    "eval.col.reason": {"en": "reason", "zh": "原因"},
    # calibration
    "eval.calibration": {"en": "Calibration", "zh": "校准"},
    "eval.curve.one": {"en": "T = 1 (ECE {ece:.2%})", "zh": "T = 1（ECE {ece:.2%}）"},
    "eval.curve.fitted": {"en": "fitted T = {t:.2f} (ECE {ece:.2%})", "zh": "拟合 T = {t:.2f}（ECE {ece:.2%}）"},
    "eval.curve.current": {"en": "slider T = {t:.2f} (ECE {ece:.2%})", "zh": "滑块 T = {t:.2f}（ECE {ece:.2%}）"},
    "eval.chart.reliability": {"en": "Reliability diagram", "zh": "可靠性图"},
    "eval.chart.perfect": {"en": "perfect calibration", "zh": "完美校准"},
    "eval.chart.confidence": {"en": "confidence (top-1 probability)", "zh": "置信度（top-1 概率）"},
    "eval.chart.accuracy": {"en": "accuracy", "zh": "准确率"},
    "eval.chart.images": {"en": "images", "zh": "图片数"},
    "eval.chart.bin_hover": {
        "en": "bin %{customdata[0]:.0%}–%{customdata[1]:.0%}: %{customdata[2]} images<br>"
        "mean confidence %{x:.1%}<br>accuracy %{y:.1%}<extra>%{fullData.name}</extra>",
        "zh": "分箱 %{customdata[0]:.0%}–%{customdata[1]:.0%}：%{customdata[2]} 张图片<br>"
        "平均置信度 %{x:.1%}<br>准确率 %{y:.1%}<extra>%{fullData.name}</extra>",
    },
    "eval.chart.count_hover": {
        "en": "confidence ≈ %{x:.0%}: %{y} images<extra>%{fullData.name}</extra>",
        "zh": "置信度 ≈ %{x:.0%}：%{y} 张图片<extra>%{fullData.name}</extra>",
    },
    "eval.chart.histogram": {"en": "Confidence histogram", "zh": "置信度直方图"},
    "eval.chart.histogram_at": {"en": "Confidence histogram at T = {t:g}", "zh": "T = {t:g} 时的置信度直方图"},
    "eval.chart.histogram_hover": {
        "en": "confidence ≈ %{x:.0%}<br>%{y} images<extra>%{fullData.name}</extra>",
        "zh": "置信度 ≈ %{x:.0%}<br>%{y} 张图片<extra>%{fullData.name}</extra>",
    },
    "eval.chart.right": {"en": "right", "zh": "正确"},
    "eval.chart.wrong": {"en": "wrong", "zh": "错误"},
    # confusion
    "eval.confusion": {"en": "Confusion", "zh": "混淆"},
    "eval.chart.confusion": {"en": "Confusion matrix", "zh": "混淆矩阵"},
    "eval.chart.true": {"en": "true class", "zh": "真实类别"},
    "eval.chart.predicted": {"en": "predicted class", "zh": "预测类别"},
    "eval.chart.row_share": {"en": "share of row", "zh": "占该行比例"},
    "eval.chart.cell_hover": {
        "en": "true: %{y}<br>predicted: %{x}<br>%{customdata} images (%{z:.0%} of the row)<extra></extra>",
        "zh": "真实：%{y}<br>预测：%{x}<br>%{customdata} 张图片（占该行 %{z:.0%}）<extra></extra>",
    },
    "eval.too_many_classes": {
        "en": "{n} classes occur: too many for a readable matrix (over {limit}); the confused pairs are listed instead.",
        "zh": "出现了 {n} 个类别：超过 {limit} 个，矩阵难以阅读；改为列出最常混淆的类别对。",
    },
    "eval.pairs_caption": {
        "en": "Most confused pairs (true → predicted). Click a row to see its images.",
        "zh": "最常混淆的类别对（真实 → 预测）。点击一行查看对应的图片。",
    },
    "eval.no_mistakes": {
        "en": "No mistakes: every image is classified correctly.",
        "zh": "没有错误：每张图片都分类正确。",
    },
    "eval.pair_images": {"en": "{n} images of the selected pair", "zh": "所选类别对的 {n} 张图片"},
    "eval.col.true": {"en": "true", "zh": "真实"},
    "eval.col.predicted": {"en": "predicted", "zh": "预测"},
    "eval.col.count": {"en": "images", "zh": "图片数"},
    # galleries and the single-image view
    "eval.galleries": {"en": "Mistakes and doubts", "zh": "错误与犹豫"},
    "eval.gallery": {"en": "Gallery", "zh": "图库"},
    "eval.gallery.mistakes": {"en": "Most confident mistakes", "zh": "最自信的错误"},
    "eval.gallery.unsure": {"en": "Least confident correct", "zh": "最不自信的正确"},
    "eval.gallery.mistakes_caption": {
        "en": "Wrong predictions made with the highest confidence: label noise, look-alike classes, or "
        "overconfidence. Margin = top-1 minus top-2 probability.",
        "zh": "置信度最高的错误预测：可能是标注错误、外观相似的类别，或过度自信。领先 = 第一名概率减第二名概率。",
    },
    "eval.gallery.unsure_caption": {
        "en": "Right predictions made with the lowest confidence: the model was nearly wrong. "
        "Margin = top-1 minus top-2 probability.",
        "zh": "置信度最低的正确预测：模型差一点就错了。领先 = 第一名概率减第二名概率。",
    },
    "eval.gallery_empty": {"en": "None.", "zh": "无。"},
    "eval.card": {"en": "true: {true}\npredicted: {predicted}", "zh": "真实：{true}\n预测：{predicted}"},
    "eval.card_confidence": {"en": "confidence {confidence:.1%}", "zh": "置信度 {confidence:.1%}"},
    "eval.card_margin": {"en": "margin {margin:.1%}", "zh": "领先 {margin:.1%}"},
    "eval.card_numbers": {
        "en": "confidence {confidence:.1%} · margin {margin:.1%}",
        "zh": "置信度 {confidence:.1%} · 领先 {margin:.1%}",
    },
    "eval.open": {"en": "Open", "zh": "查看"},
    "eval.view.title": {"en": "Selected image", "zh": "所选图片"},
    "eval.view.close": {"en": "Close", "zh": "关闭"},
    "eval.view.top_k": {"en": "Top-5 at T = {t:g}", "zh": "T = {t:g} 时的前 5 名"},
    "eval.view.checks": {"en": "Checks on these logits", "zh": "对这些 logits 的检查"},
    "eval.view.finding": {"en": "finding", "zh": "检查结果"},
    "eval.view.status": {"en": "status", "zh": "状态"},
    "eval.status.pass": {"en": "pass", "zh": "通过"},
    "eval.status.warn": {"en": "warning", "zh": "警告"},
    "eval.status.fail": {"en": "FAIL", "zh": "失败"},
    "eval.view.inspector": {"en": "Open in the Image Inspector", "zh": "在图片检查器中打开"},
    # per class
    "eval.per_class": {"en": "Per class", "zh": "按类别"},
    "eval.col.index": {"en": "index", "zh": "索引"},
    "eval.col.label": {"en": "class", "zh": "类别"},
    "eval.col.correct": {"en": "correct", "zh": "正确数"},
    "eval.col.accuracy": {"en": "accuracy", "zh": "准确率"},
    "eval.col.mean_confidence": {"en": "mean confidence", "zh": "平均置信度"},
    "eval.col.predicted_count": {"en": "predicted as this", "zh": "被预测为此类"},
    "eval.col.most_confused": {"en": "most often mistaken for", "zh": "最常被误认为"},
    # results out
    "eval.download": {"en": "Results", "zh": "结果"},
    "eval.download_caption": {
        "en": "Per-image results with every logit: load them back here (Load a results file) or in pandas.",
        "zh": "逐张图片的结果，包含全部 logits：可在本页（载入结果文件）或用 pandas 重新载入。",
    },
    "eval.download_csv": {"en": "Download CSV", "zh": "下载 CSV"},
    "eval.download_parquet": {"en": "Download Parquet", "zh": "下载 Parquet"},
}
