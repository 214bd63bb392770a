"""Strings of the one-file HTML reports (core.report), the report buttons, the CLI's `report`, and the
Inspector's links (core.links): their problems and the copy-link box."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    "report.inspector_title": {"en": "logitscope report: image predictions", "zh": "logitscope 报告：图像预测"},
    "report.evaluation_title": {"en": "logitscope report: dataset evaluation", "zh": "logitscope 报告：数据集评估"},
    "report.model": {"en": "Model", "zh": "模型"},
    "report.preprocessing": {"en": "Preprocessing", "zh": "预处理"},
    "report.settings": {"en": "Settings", "zh": "设置"},
    "report.settings_value": {
        "en": "T = {temperature:g}, top-{k}, {scores}",
        "zh": "T = {temperature:g}，top-{k}，{scores}",
    },
    "report.eval_settings_value": {
        "en": "mistakes and confusion counted at T = {temperature:g}",
        "zh": "错误与混淆按 T = {temperature:g} 统计",
    },
    "report.images": {"en": "Images", "zh": "图片数"},
    "report.source": {"en": "Data", "zh": "数据"},
    "report.skipped": {"en": "Skipped files", "zh": "跳过的文件"},
    "report.footer": {
        "en": "Made by logitscope on {when}. One self-contained file: it loads nothing from the network.",
        "zh": "由 logitscope 生成于 {when}。单个自包含文件：不会从网络加载任何内容。",
    },
    "report.not_analysed": {"en": "This image could not be analysed.", "zh": "这张图片无法分析。"},
    "report.picture": {
        "en": "The picture: {width} × {height} px, {mode}",
        "zh": "原图：{width} × {height} 像素，{mode}",
    },
    "report.model_input": {
        "en": "What the model sees: the input tensor {shape}, de-normalised",
        "zh": "模型看到的输入：张量 {shape}，已还原归一化",
    },
    "report.model_input_alt": {"en": "model input", "zh": "模型输入"},
    "report.top_k": {"en": "Top-{k} at T = {temperature:g}", "zh": "T = {temperature:g} 时的前 {k} 名"},
    "report.headline": {"en": "Headline metrics", "zh": "主要指标"},
    "report.metric": {"en": "Metric", "zh": "指标"},
    "report.at_one": {"en": "T = 1", "zh": "T = 1"},
    "report.at_fitted": {"en": "fitted T = {t:.3g}", "zh": "拟合 T = {t:.3g}"},
    "report.at_chosen": {"en": "chosen T = {t:g}", "zh": "所选 T = {t:g}"},
    "report.reliability": {"en": "Reliability diagram", "zh": "可靠性图"},
    "report.confusion": {"en": "Confusion at T = {t:g}", "zh": "T = {t:g} 时的混淆情况"},
    "report.too_many_classes": {
        "en": "{n} classes occur, more than the {limit} a heatmap can show legibly: the table lists the confused "
        "pairs.",
        "zh": "共出现 {n} 个类别，超过热力图能清楚显示的 {limit} 个：下表列出被混淆的类别对。",
    },
    "report.mistakes": {"en": "Most confident mistakes at T = {t:g}", "zh": "T = {t:g} 时最自信的错误"},
    "report.label_issues": {"en": "Likely label errors", "zh": "可能的标注错误"},
    "report.label_issues_note": {
        "en": "Found with cleanlab (confident learning): images whose given label the model finds unlikely, "
        "lowest probability of the given label first.",
        "zh": "由 cleanlab（置信学习）找出：模型认为其给定标签不太可能的图片，按给定标签的概率从低到高排列。",
    },
    "report.no_label_issues": {"en": "No likely label errors were found.", "zh": "没有发现可能的标注错误。"},
    "report.issue.file": {"en": "File", "zh": "文件"},
    "report.issue.given": {"en": "Given label", "zh": "给定标签"},
    "report.issue.suggested": {"en": "Model's class", "zh": "模型预测类别"},
    "report.issue.confidence": {"en": "Confidence", "zh": "置信度"},
    "report.issue.score": {"en": "p(given label)", "zh": "给定标签的概率"},
    "report.more_rows": {"en": "… and {n} more.", "zh": "……另有 {n} 条。"},
    # the buttons and the link box
    "report.download": {"en": "Download report (HTML)", "zh": "下载报告（HTML）"},
    "report.download_help": {
        "en": "One self-contained HTML file: pictures, tables and interactive charts, opens offline, prints on A4.",
        "zh": "单个自包含的 HTML 文件：图片、表格和可交互图表，离线可打开，可按 A4 打印。",
    },
    # the CLI
    "report.cli_written": {"en": "report written to {path} ({n} images)", "zh": "报告已写入 {path}（{n} 张图片）"},
    # the Inspector's links (core.links)
    "links.err.sample": {
        "en": "The link names sample images that are not here ({names}); showing the default sample instead.",
        "zh": "链接中的示例图片在这里不存在（{names}）；改为显示默认示例。",
    },
    "links.err.model": {
        "en": "The link names the model {name!r}, which this app does not know; showing the default model.",
        "zh": "链接中的模型 {name!r} 在本应用中不存在；改为使用默认模型。",
    },
    "links.err.model_unavailable": {
        "en": "The link names the model {name}, whose weights are not on this machine ({reason}); showing the "
        "default model.",
        "zh": "链接中的模型 {name} 的权重不在这台机器上（{reason}）；改为使用默认模型。",
    },
    "links.err.temperature": {
        "en": "The link's temperature T = {text!r} is not a number from {low:g} to {high:g}; using T = 1.",
        "zh": "链接中的温度 T = {text!r} 不是 {low:g} 到 {high:g} 之间的数；改用 T = 1。",
    },
    "links.note.temperature": {
        "en": "The link's T = {text} lies between the slider's steps: showing the nearest, T = {t:g}.",
        "zh": "链接中的 T = {text} 介于滑块的刻度之间：显示最接近的 T = {t:g}。",
    },
    "links.err.k": {
        "en": "The link's k = {text!r} is not a whole number from {low} to {high}; using the default.",
        "zh": "链接中的 k = {text!r} 不是 {low} 到 {high} 之间的整数；改用默认值。",
    },
    "links.err.scores": {
        "en": "The link's scores = {text!r} is neither softmax nor sigmoid; using softmax.",
        "zh": "链接中的 scores = {text!r} 既不是 softmax 也不是 sigmoid；改用 softmax。",
    },
    "links.err.class": {
        "en": "The link's class {text!r} matches no class of this model; showing the runner-up instead.",
        "zh": "链接中的类别 {text!r} 与该模型的任何类别都不匹配；改为显示第二名。",
    },
    "links.err.class_index": {
        "en": "The link's class #{index} does not exist: this model has {n} classes (0 to {n} - 1).",
        "zh": "链接中的类别 #{index} 不存在：该模型共有 {n} 个类别（0 到 {n} - 1）。",
    },
    "links.problem": {"en": "Link: {error}", "zh": "链接：{error}"},
    "links.share": {"en": "Share link", "zh": "分享链接"},
    "links.share_help": {
        "en": "This address opens exactly this view: the same sample images, model, T, k, scores and class X.",
        "zh": "此地址会打开完全相同的视图：相同的示例图片、模型、T、k、分数类型和类别 X。",
    },
    "links.uploads_stay": {
        "en": "Uploaded images and camera photos cannot travel in a link (the link only names sample images): "
        "{n} of the images shown will be missing for whoever opens it. Send the report instead, one file with "
        "everything:",
        "zh": "上传的图片和相机照片无法通过链接分享（链接只能指明示例图片）：打开链接的人将看不到当前显示的 {n} 张图片。"
        "请改为发送报告，一个文件包含全部内容：",
    },
    "links.no_samples": {
        "en": "No sample image is shown, so the link opens the Inspector with the default sample.",
        "zh": "当前没有显示示例图片，因此链接会以默认示例打开检查器。",
    },
}
