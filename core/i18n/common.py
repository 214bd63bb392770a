"""Strings shared by every page, the sidebar and the CLI: key -> {"en": ..., "zh": ...}."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    # claims checker verdicts (core.numerics.check_claims)
    "claims.out_of_range": {
        "en": "Some claimed values are outside [0, 1]: these cannot be probabilities.",
        "zh": "部分声称的数值不在 [0, 1] 之内：它们不可能是概率。",
    },
    "claims.sum_above": {
        "en": "The claimed values sum to {percent}%: these are not one softmax, perhaps independent sigmoid scores.",
        "zh": "声称的数值之和为 {percent}%：它们不是同一个 softmax 的输出，可能是相互独立的 sigmoid 分数。",
    },
    "claims.sum_below": {
        "en": "The claimed values sum to only {percent}%: one softmax always sums to 100% (perhaps only the top-k were listed, or rounded).",
        "zh": "声称的数值之和只有 {percent}%：同一个 softmax 的输出之和总是 100%（可能只列出了前 k 个，或经过了舍入）。",
    },
    "claims.all_ok": {
        "en": "All {n} claimed probabilities match softmax of these logits.",
        "zh": "全部 {n} 个声称的概率都与这些 logits 的 softmax 一致。",
    },
    "claims.wrong_values": {
        "en": "The claims sum to {percent}% as one softmax would, but {wrong} of {n} values do not match these logits.",
        "zh": "声称的数值之和为 {percent}%，符合 softmax 的特征，但 {n} 个数值中有 {wrong} 个与这些 logits 不符。",
    },
    # checklist (core.checks): "check.<name>.<status>"
    "check.logits_finite.pass": {"en": "All {n} logits are finite.", "zh": "全部 {n} 个 logits 都是有限值。"},
    "check.logits_finite.fail": {
        "en": "Logits contain {nan} NaN and {inf} infinite values: the model or its input is broken.",
        "zh": "logits 中有 {nan} 个 NaN 和 {inf} 个无穷值：模型或输入出了问题。",
    },
    "check.logits_varied.pass": {
        "en": "Logits range from {min:.3f} to {max:.3f} (spread {spread:.3f}).",
        "zh": "logits 的范围是 {min:.3f} 到 {max:.3f}（跨度 {spread:.3f}）。",
    },
    "check.logits_varied.fail": {
        "en": "Every logit equals {value:g}: the output does not depend on the classes (untrained head? blank input?).",
        "zh": "所有 logits 都等于 {value:g}：输出与类别无关（分类头未训练？输入为空白？）。",
    },
    "check.not_probabilities.pass": {
        "en": "The logits do not look like probabilities (sum {sum:.3f}).",
        "zh": "这些 logits 看起来不是概率（总和 {sum:.3f}）。",
    },
    "check.not_probabilities.warn": {
        "en": "These 'logits' are all in [0, 1] and sum to {sum:.3f}: they look like probabilities already. Softmax on them again (double softmax) flattens everything.",
        "zh": "这些“logits”都在 [0, 1] 内且总和为 {sum:.3f}：它们看起来已经是概率了。再做一次 softmax（双重 softmax）会把分布压平。",
    },
    "check.softmax_sums_to_one.pass": {
        "en": "Softmax at T = {temperature:g} sums to {sum:.6f}.",
        "zh": "T = {temperature:g} 时 softmax 之和为 {sum:.6f}。",
    },
    "check.softmax_sums_to_one.fail": {
        "en": "Softmax at T = {temperature:g} sums to {sum:.6f}, not 1.",
        "zh": "T = {temperature:g} 时 softmax 之和为 {sum:.6f}，不等于 1。",
    },
    "check.top_k_in_labels.pass": {
        "en": "All top-{k} indices are inside the label list ({labels} names).",
        "zh": "前 {k} 个索引都在标签列表（{labels} 个名称）之内。",
    },
    "check.top_k_in_labels.fail": {
        "en": "Top-{k} indices {outside} are past the end of the label list ({labels} names): they have no name.",
        "zh": "前 {k} 个中的索引 {outside} 超出了标签列表（{labels} 个名称）：它们没有名称。",
    },
    "check.label_count.pass": {
        "en": "{labels} labels for {classes} classes.",
        "zh": "{labels} 个标签对应 {classes} 个类别。",
    },
    "check.label_count.fail": {
        "en": "{labels} labels for {classes} classes: indices map to the wrong names.",
        "zh": "{labels} 个标签对应 {classes} 个类别：索引会对应到错误的名称。",
    },
    # shared sidebar and home page
    "sidebar.model": {"en": "Model", "zh": "模型"},
    "sidebar.model_help": {
        "en": "efficientnet_lite0 works offline. torchvision models need their weights in the torch hub cache.",
        "zh": "efficientnet_lite0 可离线使用。torchvision 模型需要其权重位于 torch hub 缓存中。",
    },
    "sidebar.labels": {"en": "Label language", "zh": "标签语言"},
    "sidebar.labels.en": {"en": "English", "zh": "英文"},
    "sidebar.labels.zh": {"en": "Chinese", "zh": "中文"},
    "sidebar.labels.both": {"en": "Both", "zh": "双语"},
    # navigation: the page titles in the sidebar menu, the browser tab and the home page's links
    "nav.home": {"en": "Home", "zh": "首页"},
    "nav.inspector": {"en": "Image Inspector", "zh": "图像检查器"},
    "nav.lab": {"en": "Logits Lab", "zh": "Logits 实验室"},
    "nav.evaluate": {"en": "Dataset Evaluation", "zh": "数据集评估"},
    "home.title": {"en": "logitscope", "zh": "logitscope"},
    "home.tagline": {
        "en": "See what an image classifier really outputs: raw logits, softmax probabilities, top-k, and what temperature does to them.",
        "zh": "看清图像分类器真正输出了什么：原始 logits、softmax 概率、top-k，以及温度对它们的影响。",
    },
    "home.pipeline": {"en": "The pipeline", "zh": "计算流程"},
    "home.pages": {"en": "Pages", "zh": "页面"},
    "home.page.inspector": {
        "en": "Upload an image and see every step of its prediction; debug a misclassification.",
        "zh": "上传图片，查看预测的每一步；排查误分类。",
    },
    "home.page.lab": {
        "en": "Edit logits by hand: softmax, temperature, top-k/top-p and the math behind them.",
        "zh": "手动编辑 logits：softmax、温度、top-k/top-p 及其背后的数学。",
    },
    "home.page.evaluate": {
        "en": "Evaluate a labelled set: accuracy, confusion, mistakes, calibration, temperature fitting.",
        "zh": "评估带标签的数据集：准确率、混淆矩阵、错误样本、校准和温度拟合。",
    },
    "home.facts": {"en": "What people get wrong", "zh": "常见误区"},
    "home.fact.ranking": {
        "en": "Softmax never changes the ranking: top-k of logits = top-k of probabilities, at any temperature.",
        "zh": "softmax 从不改变排序：在任何温度下，logits 的 top-k 等于概率的 top-k。",
    },
    "home.fact.overflow": {
        "en": "Naive exp overflows at large logits or low T: subtract the max first (or use log_softmax).",
        "zh": "logits 很大或温度很低时，朴素的 exp 会溢出：先减去最大值（或使用 log_softmax）。",
    },
    "home.fact.sum": {
        "en": "'Confidences' that sum above 100% cannot come from one softmax: they are sigmoid / multi-label scores.",
        "zh": "总和超过 100% 的“置信度”不可能来自同一个 softmax：它们是 sigmoid / 多标签分数。",
    },
    "home.fact.double": {
        "en": "Softmax applied to probabilities (double softmax) flattens everything.",
        "zh": "对概率再做一次 softmax（双重 softmax）会把分布压平。",
    },
    "home.fact.normalize": {
        "en": "A wrong Normalize mean/std silently changes predictions.",
        "zh": "错误的 Normalize 均值/标准差会悄悄改变预测结果。",
    },
    "home.fact.labels": {
        "en": "A label list of the wrong length maps indices to the wrong names.",
        "zh": "长度不对的标签列表会把索引对应到错误的名称。",
    },
    "home.default_model": {"en": "Default model", "zh": "默认模型"},
    # the home page's live demo (ui/home.py)
    "home.live": {"en": "Try it: move the temperature", "zh": "试一试：拖动温度"},
    "home.live_intro": {
        "en": "A real model on a real photo. The logits (blue) stay put; softmax(z / T) turns them into "
        "probabilities (red): T < 1 sharpens them, T > 1 flattens them, and the ranking never changes.",
        "zh": "真实的模型，真实的照片。logits（蓝色）保持不变；softmax(z / T) 把它们变成概率（红色）："
        "T < 1 让概率更集中，T > 1 让概率更平均，而排序永远不变。",
    },
    "home.live_sample": {"en": "Photo", "zh": "照片"},
    "home.sample.coffee": {"en": "espresso", "zh": "浓缩咖啡"},
    "home.sample.chelsea": {"en": "cat", "zh": "猫"},
    "home.sample.camera": {"en": "camera", "zh": "相机"},
    "home.live_loading": {"en": "Running the model once…", "zh": "正在运行一次模型…"},
    "home.live_caption": {
        "en": "The model ran once; the slider only recomputes the softmax. The Image Inspector does this for "
        "your own images, with every check.",
        "zh": "模型只运行了一次；滑块只重新计算 softmax。图像检查器可以对你自己的图片做同样的事，并给出全部检查。",
    },
    "sidebar.not_downloaded": {"en": "weights not downloaded", "zh": "权重未下载"},
    "sidebar.backend": {"en": "Backend", "zh": "推理后端"},
    "sidebar.backend_help": {
        "en": "What runs the model. auto: ONNX Runtime on a CPU when its export gives torch's logits (max |Δlogit| "
        "at most 1e-4 of their scale, the same top-5 on real photos and random inputs), torch otherwise and on a GPU. "
        "torch: eager PyTorch, the reference every number is checked against.",
        "zh": "由谁运行模型。自动：在 CPU 上，若 ONNX Runtime 导出的模型给出与 torch 相同的 logits（在真实照片和随机输入上"
        "最大 |Δlogit| 不超过其量级的 1e-4，且前 5 名相同）则用 ONNX Runtime，否则以及在 GPU 上用 torch。"
        "torch：PyTorch eager 模式，所有数值都以它为准。",
    },
    "sidebar.backend.auto": {"en": "auto", "zh": "自动"},
    "sidebar.backend.torch": {"en": "torch", "zh": "torch"},
    "sidebar.backend.onnxruntime": {"en": "onnxruntime", "zh": "onnxruntime"},
    "sidebar.backend.runs_onnx": {
        "en": "onnxruntime · max |Δlogit| {delta} vs torch",
        "zh": "onnxruntime · 与 torch 相比最大 |Δlogit| {delta}",
    },
    "sidebar.backend.runs_torch": {"en": "torch (eager)", "zh": "torch（eager 模式）"},
    "sidebar.backend.fallback": {"en": "onnxruntime not used: {reason}", "zh": "未使用 onnxruntime：{reason}"},
    "sidebar.checkpoint": {"en": "Your checkpoint…", "zh": "你的检查点…"},
    "sidebar.arch": {"en": "Architecture", "zh": "网络结构"},
    "sidebar.checkpoint_file": {"en": "Checkpoint file", "zh": "检查点文件"},
    "sidebar.checkpoint_help": {
        "en": "A .safetensors file or a state_dict saved with torch.save (.pt/.pth). Pickled code is refused. "
        "Uploads are limited to 200 MB (a float32 checkpoint of a large label space can be bigger): save it as "
        "float16, or whoever runs the server raises server.maxUploadSize (MB) in .streamlit/config.toml, or starts "
        "it with `streamlit run app.py --server.maxUploadSize 1000`.",
        "zh": ".safetensors 文件，或用 torch.save 保存的 state_dict（.pt/.pth）。含 pickle 代码的文件会被拒绝。"
        "上传文件最大 200 MB（大类别数的 float32 检查点可能更大）：可保存为 float16，或由服务器管理员在 "
        ".streamlit/config.toml 中调大 server.maxUploadSize（单位 MB），或用 "
        "`streamlit run app.py --server.maxUploadSize 1000` 启动。",
    },
    "sidebar.labels.file": {"en": "File", "zh": "文件"},
    "sidebar.label_file": {"en": "Label file", "zh": "标签文件"},
    "sidebar.label_file_help": {
        "en": '.txt (one name per line), .json (list or {"0": name}) or .csv (index,name); one name per class.',
        "zh": '.txt（每行一个名称）、.json（列表或 {"0": 名称}）或 .csv（索引,名称）；每个类别一个名称。',
    },
    "sidebar.no_checkpoint": {
        "en": "Upload a checkpoint in the sidebar to use your own model.",
        "zh": "请在侧边栏上传检查点以使用你自己的模型。",
    },
    # chart legends and axes (core.charts)
    "chart.softmax": {"en": "probability", "zh": "概率"},
    "chart.sigmoid": {"en": "sigmoid score", "zh": "sigmoid 分数"},
    "chart.softmax_at": {"en": "probability (T = {t})", "zh": "概率（T = {t}）"},
    "chart.sigmoid_at": {"en": "sigmoid (T = {t})", "zh": "sigmoid（T = {t}）"},
    "chart.logit": {"en": "logit", "zh": "logit"},
    "chart.rank": {"en": "rank", "zh": "排名"},
    "chart.temperature": {"en": "temperature T", "zh": "温度 T"},
    "chart.entropy_bits": {"en": "entropy (bits)", "zh": "熵（比特）"},
}
