"""UI strings of the set-debugging tools (label issues, per class, map, look-alikes, two models, slices)."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    # figures
    "diag.chart.map": {"en": "Embedding map (penultimate-layer features)", "zh": "嵌入图（倒数第二层特征）"},
    "diag.chart.images": {"en": "images", "zh": "图片"},
    "diag.chart.mistakes": {"en": "wrong prediction", "zh": "预测错误"},
    "diag.chart.issues": {"en": "likely label error", "zh": "疑似标注错误"},
    "diag.chart.selected": {"en": "selected", "zh": "已选"},
    "diag.chart.point_hover": {
        "en": "row %{customdata[0]}<br>%{text}<extra></extra>",
        "zh": "第 %{customdata[0]} 行<br>%{text}<extra></extra>",
    },
    "diag.chart.other": {"en": "other", "zh": "其他"},
    "diag.chart.log_count": {"en": "log10(1 + count)", "zh": "log10(1 + 数量)"},
    "diag.chart.row_share": {"en": "share of row", "zh": "占该行比例"},
    "diag.chart.cell_hover": {
        "en": "true %{y}<br>predicted %{x}<br>%{customdata} images<extra></extra>",
        "zh": "真实 %{y}<br>预测 %{x}<br>%{customdata} 张<extra></extra>",
    },
    "diag.chart.predicted": {"en": "predicted class", "zh": "预测类别"},
    "diag.chart.true": {"en": "true class", "zh": "真实类别"},
    "diag.chart.confusion": {
        "en": "Confusion among the {n} most confused classes",
        "zh": "最易混淆的 {n} 个类别之间的混淆",
    },
    # the tools on the Evaluation page
    "diag.title": {"en": "Debug the set", "zh": "调试数据集"},
    "diag.tool": {"en": "Tool", "zh": "工具"},
    "diag.tool.issues": {"en": "Likely label errors", "zh": "疑似标注错误"},
    "diag.tool.images": {"en": "Per image", "zh": "逐张图片"},
    "diag.tool.classes": {"en": "Per class", "zh": "逐类别"},
    "diag.tool.map": {"en": "Embedding map", "zh": "嵌入图"},
    "diag.tool.lookalikes": {"en": "Look-alikes", "zh": "相似图片"},
    "diag.tool.compare": {"en": "Two models", "zh": "两个模型"},
    "diag.tool.slices": {"en": "Weak slices", "zh": "薄弱切片"},
    "diag.pick": {
        "en": "Pick a tool: each is computed only when opened.",
        "zh": "选择一个工具：只有打开时才会计算。",
    },
    "diag.class_filter": {"en": "Show only class", "zh": "只显示类别"},
    "diag.class_all": {"en": "all classes", "zh": "全部类别"},
    "diag.issues.held_out": {
        "en": "Label errors are found from the model's probabilities (cleanlab's confident learning). This needs "
        "predictions on images the model was NOT trained on: on its training images it has memorised the labels, "
        "wrong ones included, and finds almost nothing.",
        "zh": "标注错误由模型的概率找出（cleanlab 的置信学习）。这需要模型在未训练过的图片上的预测："
        "在训练图片上，它已记住了标签（包括错误的），几乎什么也找不到。",
    },
    "diag.issues.none": {"en": "No likely label error found.", "zh": "没有发现疑似标注错误。"},
    "diag.issues.count": {"en": "{n} images whose label is probably wrong", "zh": "{n} 张图片的标签可能有误"},
    "diag.issues.table": {"en": "All as a table", "zh": "全部（表格）"},
    "diag.sort": {"en": "Sort by", "zh": "排序"},
    "diag.sort.score": {"en": "likeliest first", "zh": "最可能的在前"},
    "diag.sort.confidence": {"en": "model's confidence", "zh": "模型置信度"},
    "diag.sort.given": {"en": "given class", "zh": "给定类别"},
    "diag.sort.suggested": {"en": "the model's class", "zh": "模型给出的类别"},
    "diag.issue_card": {
        "en": "given: {given} · the model says: {said} ({p:.0%})",
        "zh": "给定：{given} · 模型认为：{said}（{p:.0%}）",
    },
    "diag.issue_score": {
        "en": "score {score:.4f} (probability of the given label)",
        "zh": "得分 {score:.4f}（给定标签的概率）",
    },
    "diag.images.caption": {
        "en": "Every image at the current T: hardness = entropy of the softmax (nats), margin = top-1 minus top-2 "
        "probability, mistakenness = (m·exp(−hardness)+1)/2 with m = +1 when wrong, −1 when right (FiftyOne). "
        "Most likely mistakes first; click a header to sort.",
        "zh": "当前温度下的每张图片：难度 = softmax 的熵（nats），间隔 = top-1 减 top-2 概率，"
        "错误度 = (m·exp(−难度)+1)/2，预测错误时 m = +1，正确时 −1（FiftyOne）。最可能出错的在前；点击表头排序。",
    },
    "diag.classes.caption": {
        "en": "Precision, recall and F1 per class (scikit-learn), weakest first. Click a row to show only that class "
        "in the galleries.",
        "zh": "每个类别的精确率、召回率和 F1（scikit-learn），最弱的在前。点击一行，图库只显示该类别。",
    },
    "diag.support": {"en": "images", "zh": "图片数"},
    "diag.confusion.top": {"en": "Most confused classes", "zh": "最易混淆的类别数"},
    "diag.confusion.log": {"en": "Log colour scale", "zh": "对数色阶"},
    "diag.no_features": {
        "en": "This result has no features. Evaluate here (features are kept), or write the results file with "
        "`python -m core evaluate ... --features --out results.parquet`.",
        "zh": "该结果没有特征。请在此处评估（会保留特征），或用 "
        "`python -m core evaluate ... --features --out results.parquet` 写出结果文件。",
    },
    "diag.map.method": {"en": "Projection", "zh": "投影方法"},
    "diag.map.pca": {"en": "PCA", "zh": "PCA"},
    "diag.map.tsne": {"en": "t-SNE", "zh": "t-SNE"},
    "diag.map.tsne_run": {"en": "Compute t-SNE of {n} images", "zh": "计算 {n} 张图片的 t-SNE"},
    "diag.map.tsne_progress": {"en": "t-SNE: stage {done} of {total}", "zh": "t-SNE：第 {done}/{total} 阶段"},
    "diag.map.tsne_hint": {
        "en": "t-SNE takes a while (minutes for 10,000 images); the PCA map is shown until then.",
        "zh": "t-SNE 需要一些时间（10,000 张图片需数分钟）；在此之前显示 PCA 图。",
    },
    "diag.map.caption": {
        "en": "Draw a lasso or a box, or click a point, to see those images below. Red rings: wrong predictions; "
        "black crosses: likely label errors.",
        "zh": "用套索或框选、或点击一个点，在下方查看这些图片。红圈：预测错误；黑叉：疑似标注错误。",
    },
    "diag.map.selected": {"en": "{n} images selected on the map", "zh": "在图上选中了 {n} 张图片"},
    "diag.look.image": {"en": "Image", "zh": "图片"},
    "diag.look.caption": {
        "en": "Its nearest neighbours by cosine similarity of the features: what the model thinks looks alike.",
        "zh": "按特征余弦相似度的最近邻：模型认为相似的图片。",
    },
    "diag.look.similarity": {"en": "similarity {s:.3f}", "zh": "相似度 {s:.3f}"},
    "diag.dup.title": {"en": "Near-duplicate pairs", "zh": "近似重复的图片对"},
    "diag.dup.threshold": {"en": "Similarity at least", "zh": "相似度至少"},
    "diag.dup.none": {"en": "No pair this similar.", "zh": "没有这么相似的图片对。"},
    "diag.dup.caption": {
        "en": "{n} pairs. Near-duplicates are often leaks between splits, or the same photo under two labels.",
        "zh": "{n} 对。近似重复常常是数据划分之间的泄漏，或同一张照片有两个标签。",
    },
    "diag.compare.caption": {
        "en": "Load a second model's results file for the same images (from this page's download or "
        "`python -m core evaluate ... --out`): images are matched by file name.",
        "zh": "载入第二个模型在同一批图片上的结果文件（本页下载或 `python -m core evaluate ... --out`）：按文件名匹配图片。",
    },
    "diag.compare.upload": {
        "en": "Second model's results (CSV or Parquet)",
        "zh": "第二个模型的结果（CSV 或 Parquet）",
    },
    "diag.compare.classes": {
        "en": "The two models have different class counts ({a} and {b}): they cannot be compared.",
        "zh": "两个模型的类别数不同（{a} 和 {b}）：无法比较。",
    },
    "diag.compare.n": {"en": "Images in both", "zh": "共同图片"},
    "diag.compare.agree": {"en": "Same prediction", "zh": "预测相同"},
    "diag.compare.acc": {"en": "Top-1 of {model}", "zh": "{model} 的 top-1"},
    "diag.compare.disagree": {"en": "{n} images where they disagree", "zh": "{n} 张图片两者意见不同"},
    "diag.compare.card": {"en": "true {true} · A: {a} · B: {b}", "zh": "真实 {true} · A：{a} · B：{b}"},
    "diag.slices.no_images": {
        "en": "Weak slices need the images (a results file alone has none).",
        "zh": "薄弱切片需要图片（仅有结果文件时没有图片）。",
    },
    "diag.slices.caption": {
        "en": "Accuracy by simple image properties, cut into quartiles, weakest slice first.",
        "zh": "按简单图片属性（分为四分位）的准确率，最弱的切片在前。",
    },
    "diag.slices.brightness": {"en": "brightness", "zh": "亮度"},
    "diag.slices.contrast": {"en": "contrast", "zh": "对比度"},
    "diag.slices.size": {"en": "size (pixels)", "zh": "尺寸（像素）"},
    "diag.slices.aspect": {"en": "aspect ratio", "zh": "宽高比"},
    "diag.slices.grayscale": {"en": "colour", "zh": "颜色"},
    "diag.compare.how": {"en": "Second model", "zh": "第二个模型"},
    "diag.compare.how.file": {"en": "its results file", "zh": "它的结果文件"},
    "diag.compare.how.model": {"en": "evaluate it here", "zh": "在此评估"},
    "diag.compare.model": {"en": "Model", "zh": "模型"},
    "diag.compare.run": {"en": "Evaluate on these images", "zh": "在这些图片上评估"},
    "diag.slices.value.grayscale": {"en": "grayscale", "zh": "灰度"},
    "diag.slices.value.colour": {"en": "colour", "zh": "彩色"},
    # why a tool cannot run on this result (core.diagnose.availability); a sentence, never an exception box
    "diag.unavailable.few_images": {
        "en": "needs at least {need} images; this result has {n}",
        "zh": "至少需要 {need} 张图片；此结果只有 {n} 张",
    },
    "diag.unavailable.one_class": {
        "en": "needs images of at least 2 classes to compare them; all {n} images here are labelled {label}",
        "zh": "需要至少 2 个类别的图片才能相互比较；这里的 {n} 张图片都标注为 {label}",
    },
    "diag.unavailable.model_classes": {
        "en": "needs a model with at least 2 classes; this one has {n}",
        "zh": "需要至少有 2 个类别的模型；此模型只有 {n} 个",
    },
    "diag.unavailable.no_features": {
        "en": "the run kept no features: evaluate on this page, or with `python -m core evaluate ... --features`",
        "zh": "这次运行没有保留特征：请在此页面评估，或使用 `python -m core evaluate ... --features`",
    },
}
