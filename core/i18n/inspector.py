"""UI strings of the inspector page: key -> {"en": ..., "zh": ...}."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    # page
    "inspector.title": {"en": "Image Inspector", "zh": "图像检查器"},
    "inspector.intro": {
        "en": "Upload images or pick samples: see what the model sees, its raw logits, the probabilities at any "
        "temperature, and why it chose what it chose.",
        "zh": "上传图片或选择示例图片：看看模型实际看到的输入、原始 logits、任意温度下的概率，以及它为什么这样判断。",
    },
    "inspector.nothing": {
        "en": "Upload an image, take a photo, or tick a sample image above to see its prediction.",
        "zh": "上传图片、拍一张照片，或在上方勾选一张示例图片，即可查看预测结果。",
    },
    "inspector.model_caption": {"en": "Model: {model}", "zh": "模型：{model}"},
    # sidebar controls
    "inspector.controls": {"en": "Inspector", "zh": "检查器设置"},
    "inspector.k": {"en": "Top-k", "zh": "Top-k（显示前 k 个）"},
    "inspector.k_help": {
        "en": "How many of the most likely classes to list. Changing it never re-runs the model.",
        "zh": "列出概率最高的前几个类别。修改它不会重新运行模型。",
    },
    "inspector.temperature": {"en": "Temperature T", "zh": "温度 T"},
    "inspector.temperature_help": {
        "en": "softmax(z / T), on a log scale from 0.05 to 20. T < 1 sharpens, T > 1 flattens; the ranking never "
        "changes. Changing it never re-runs the model.",
        "zh": "softmax(z / T)，对数刻度，范围 0.05 到 20。T < 1 让分布更尖锐，T > 1 让分布更平缓；排序永远不变。"
        "修改它不会重新运行模型。",
    },
    "inspector.scores": {"en": "Scores", "zh": "分数类型"},
    "inspector.scores.softmax": {"en": "softmax", "zh": "softmax"},
    "inspector.scores.sigmoid": {"en": "sigmoid (multi-label)", "zh": "sigmoid（多标签）"},
    "inspector.scores_help": {
        "en": "softmax: one distribution over all classes. sigmoid: an independent yes/no score per class.",
        "zh": "softmax：所有类别共享一个概率分布。sigmoid：每个类别各自独立的“是/否”分数。",
    },
    "inspector.sigmoid_note": {
        "en": "Sigmoid scores each class on its own, so the scores need not sum to 1.",
        "zh": "sigmoid 对每个类别单独打分，所以这些分数之和不必等于 1。",
    },
    # inputs
    "inspector.upload": {"en": "Upload images", "zh": "上传图片"},
    "inspector.upload_help": {
        "en": "JPEG, PNG, WebP, GIF, BMP or TIFF; several at once. A bad file gets a message; the others still run.",
        "zh": "支持 JPEG、PNG、WebP、GIF、BMP 或 TIFF，可一次上传多张。有问题的文件会显示提示，其余图片照常分析。",
    },
    "inspector.camera": {"en": "Take a photo", "zh": "拍照"},
    "inspector.camera_label": {"en": "Camera", "zh": "摄像头"},
    "inspector.earlier_uploads": {
        "en": "Still analysing your earlier uploads: {names}",
        "zh": "仍在分析你之前上传的图片：{names}",
    },
    "inspector.forget_uploads": {"en": "Forget them", "zh": "清除"},
    "inspector.gallery": {"en": "Sample images (tick to analyse)", "zh": "示例图片（勾选即可分析）"},
    "inspector.sample.coffee": {"en": "A cup of espresso (scikit-image)", "zh": "一杯浓咖啡（scikit-image）"},
    "inspector.sample.chelsea": {"en": "Chelsea the cat (scikit-image)", "zh": "猫咪 Chelsea（scikit-image）"},
    "inspector.sample.camera": {
        "en": "A photographer with a camera on a tripod, grayscale (scikit-image)",
        "zh": "摄影师与三脚架上的相机，灰度图（scikit-image）",
    },
    "inspector.sample.rocket": {
        "en": "A rocket on its launch pad (scikit-image)",
        "zh": "发射台上的火箭（scikit-image）",
    },
    "inspector.sample.astronaut": {
        "en": "Astronaut Eileen Collins (scikit-image)",
        "zh": "宇航员艾琳·柯林斯（scikit-image）",
    },
    "inspector.sample.horse": {
        "en": "A horse silhouette, binary (scikit-image)",
        "zh": "马的剪影，二值图（scikit-image）",
    },
    "inspector.sample.grace_hopper": {
        "en": "Grace Hopper in uniform (matplotlib)",
        "zh": "身着制服的格蕾丝·霍珀（matplotlib）",
    },
    "inspector.sample.china": {"en": "A Chinese temple (scikit-learn)", "zh": "一座中国寺庙（scikit-learn）"},
    "inspector.sample.flower": {"en": "A flower (scikit-learn)", "zh": "一朵花（scikit-learn）"},
    "inspector.sample_name.coffee": {"en": "coffee", "zh": "咖啡"},
    "inspector.sample_name.chelsea": {"en": "Chelsea", "zh": "猫咪"},
    "inspector.sample_name.camera": {"en": "camera", "zh": "摄影师"},
    "inspector.sample_name.rocket": {"en": "rocket", "zh": "火箭"},
    "inspector.sample_name.astronaut": {"en": "astronaut", "zh": "宇航员"},
    "inspector.sample_name.horse": {"en": "horse", "zh": "马"},
    "inspector.sample_name.grace_hopper": {"en": "Hopper", "zh": "霍珀"},
    "inspector.sample_name.china": {"en": "temple", "zh": "寺庙"},
    "inspector.sample_name.flower": {"en": "flower", "zh": "花"},
    # several images
    "inspector.running": {"en": "Analysing {n} images…", "zh": "正在分析 {n} 张图片…"},
    "inspector.progress": {"en": "{done} of {total}: {name}", "zh": "第 {done}/{total} 张：{name}"},
    "inspector.summary": {"en": "Summary of {n} images", "zh": "{n} 张图片概览"},
    "inspector.status.pass": {"en": "✓ checks pass", "zh": "✓ 检查通过"},
    "inspector.status.warn": {"en": "⚠ warning", "zh": "⚠ 警告"},
    "inspector.status.fail": {"en": "✗ check failed", "zh": "✗ 检查未通过"},
    "inspector.status.error": {"en": "✗ not analysed", "zh": "✗ 无法分析"},
    "inspector.details_for": {"en": "Details for", "zh": "查看详情"},
    # table columns
    "inspector.col.file": {"en": "File", "zh": "文件"},
    "inspector.col.top1": {"en": "Top-1", "zh": "Top-1 类别"},
    "inspector.col.status": {"en": "Checks", "zh": "检查"},
    "inspector.col.message": {"en": "Message", "zh": "说明"},
    "inspector.col.rank": {"en": "Rank", "zh": "排名"},
    "inspector.col.index": {"en": "Class index", "zh": "类别索引"},
    "inspector.col.label": {"en": "Label", "zh": "标签"},
    "inspector.col.label_2": {"en": "Other language", "zh": "另一种语言"},
    "inspector.col.logit": {"en": "Logit", "zh": "Logit"},
    "inspector.col.probability": {"en": "Probability (T = {temperature:g})", "zh": "概率（T = {temperature:g}）"},
    "inspector.col.p": {"en": "p (T = {temperature:g})", "zh": "概率（T = {temperature:g}）"},
    "inspector.col.probability_t1": {"en": "Probability (T = 1)", "zh": "概率（T = 1）"},
    "inspector.col.cumulative": {"en": "Cumulative", "zh": "累计概率"},
    "inspector.col.score": {"en": "Sigmoid score (T = {temperature:g})", "zh": "sigmoid 分数（T = {temperature:g}）"},
    "inspector.col.score_t1": {"en": "Sigmoid score (T = 1)", "zh": "sigmoid 分数（T = 1）"},
    # one image
    "inspector.original": {
        "en": "Original: {w} × {h} pixels, mode {mode}",
        "zh": "原图：{w} × {h} 像素，模式 {mode}",
    },
    "inspector.model_input": {
        "en": "What the model sees: a {shape} tensor (shown de-normalised)",
        "zh": "模型看到的输入：{shape} 张量（已反归一化显示）",
    },
    "inspector.pipeline": {
        "en": "Preprocessing, from the model's registry entry:",
        "zh": "预处理（来自模型注册信息）：",
    },
    "inspector.lines.softmax": {"en": "Top-{k} at T = {temperature:g}", "zh": "T = {temperature:g} 时的前 {k} 名"},
    "inspector.lines.sigmoid": {
        "en": "Top-{k} sigmoid scores at T = {temperature:g}",
        "zh": "T = {temperature:g} 时 sigmoid 分数的前 {k} 名",
    },
    "inspector.checks": {"en": "Health checks", "zh": "健康检查"},
    "inspector.checks.pass": {"en": "all pass", "zh": "全部通过"},
    "inspector.checks.warn": {"en": "look at the warning", "zh": "请留意警告"},
    "inspector.checks.fail": {"en": "something is wrong", "zh": "发现问题"},
    "inspector.table.softmax": {
        "en": "Top-{k} classes: logits and softmax probabilities",
        "zh": "前 {k} 个类别：logits 与 softmax 概率",
    },
    "inspector.table.sigmoid": {
        "en": "Top-{k} classes: logits and independent sigmoid scores",
        "zh": "前 {k} 个类别：logits 与相互独立的 sigmoid 分数",
    },
    "inspector.sigmoid_explained": {
        "en": "Sigmoid view: each score is σ(z / T) for that class alone, a yes/no answer per class, so the scores do not "
        "sum to 1 (that is what multi-label models output). This model was trained with softmax: its probabilities "
        "are the softmax ones.",
        "zh": "sigmoid 视图：每个分数只由该类别自己的 logit 算出，即 σ(z / T)，相当于对每个类别单独回答“是/否”，"
        "因此分数之和不等于 1（多标签模型的输出就是这样）。这个模型是用 softmax 训练的，它的概率应以 softmax 为准。",
    },
    "inspector.download_csv": {"en": "All logits (CSV)", "zh": "全部 logits（CSV）"},
    "inspector.download_json": {"en": "Prediction (JSON)", "zh": "预测结果（JSON）"},
    "inspector.open_lab": {"en": "Open in Logits Lab", "zh": "在 Logits 实验室中打开"},
    "inspector.open_lab_help": {
        "en": "Take this image's logits and labels (all classes) to the Logits Lab and play with them there.",
        "zh": "把这张图片的 logits 和标签（全部类别）带到 Logits 实验室，在那里继续调整。",
    },
    # tabs
    "inspector.tab.charts": {"en": "Charts", "zh": "图表"},
    "inspector.tab.preprocessing": {"en": "Preprocessing check", "zh": "预处理检查"},
    "inspector.tab.class": {"en": "What about class X?", "zh": "某个类别 X 呢？"},
    "inspector.tab.compare": {"en": "Compare two models", "zh": "比较两个模型"},
    "inspector.charts_caption": {
        "en": "Every chart has a camera button (top right) to save it as a PNG.",
        "zh": "每张图表右上角都有相机按钮，可保存为 PNG。",
    },
    "inspector.chart.bars": {
        "en": "Logits vs probabilities, top {k} (T = {temperature:g})",
        "zh": "logits 与概率对比，前 {k} 名（T = {temperature:g}）",
    },
    "inspector.chart.softmax_vs_sigmoid": {
        "en": "Softmax vs sigmoid on the same logits, top {k}",
        "zh": "同一组 logits 的 softmax 与 sigmoid 对比，前 {k} 名",
    },
    "inspector.chart.distribution.softmax": {
        "en": "All {n} probabilities, sorted (log scale, T = {temperature:g})",
        "zh": "全部 {n} 个概率，排序后（对数刻度，T = {temperature:g}）",
    },
    "inspector.chart.distribution.sigmoid": {
        "en": "All {n} sigmoid scores, sorted (log scale, T = {temperature:g})",
        "zh": "全部 {n} 个 sigmoid 分数，排序后（对数刻度，T = {temperature:g}）",
    },
    "inspector.chart.sweep": {
        "en": "Temperature sweep: softmax probability of the top classes vs T",
        "zh": "温度扫描：前几名类别的 softmax 概率随 T 的变化",
    },
    "inspector.chart.entropy": {"en": "Entropy of the softmax vs T", "zh": "softmax 的熵随 T 的变化"},
    "inspector.chart.class_sweep": {
        "en": "Top-1 and X vs temperature: the lines never cross",
        "zh": "Top-1 与 X 随温度的变化：两条曲线永不相交",
    },
    # preprocessing check
    "inspector.preprocessing_intro": {
        "en": "The same image through the same resize and crop, normalised three ways: the model's own way, with "
        "ImageNet mean/std, and not at all. A wrong Normalize is a classic silent bug.",
        "zh": "同一张图片，经过相同的缩放和裁剪，再用三种方式归一化：模型自己的方式、ImageNet 均值/标准差、完全不归一化。"
        "Normalize 写错是一个典型的“静默”错误。",
    },
    "inspector.preprocessing_running": {"en": "Running the three variants…", "zh": "正在运行三种预处理…"},
    "inspector.variant.own": {"en": "Model's own normalisation", "zh": "模型自己的归一化"},
    "inspector.variant.imagenet": {"en": "ImageNet mean/std", "zh": "ImageNet 均值/标准差"},
    "inspector.variant.none": {"en": "No normalisation", "zh": "不做归一化"},
    "inspector.variant_changed": {
        "en": "With {variant} the top-1 changes: {own} → {other}.",
        "zh": "使用「{variant}」时 top-1 发生了变化：{own} → {other}。",
    },
    "inspector.variant_same": {
        "en": "Top-1 stays {own} under all three; the probabilities still differ.",
        "zh": "三种方式下 top-1 都是 {own}；但概率仍有差别。",
    },
    # what about class X?
    "inspector.class_pick": {"en": "Class X", "zh": "类别 X"},
    "inspector.class_pick_help": {
        "en": "Type part of a name in English or Chinese, or a class index. Starts at the runner-up.",
        "zh": "输入英文或中文名称的一部分，或类别索引。默认是第二名。",
    },
    "inspector.class_no_match": {"en": "No class matches “{query}”.", "zh": "没有与“{query}”匹配的类别。"},
    "inspector.x.rank": {"en": "Rank", "zh": "排名"},
    "inspector.x.logit": {"en": "Logit", "zh": "Logit"},
    "inspector.x.softmax": {"en": "Probability (T = {temperature:g})", "zh": "概率（T = {temperature:g}）"},
    "inspector.x.sigmoid": {"en": "Sigmoid score (T = {temperature:g})", "zh": "sigmoid 分数（T = {temperature:g}）"},
    "inspector.x.margin": {"en": "Logit margin to top-1", "zh": "与 top-1 的 logit 差距"},
    "inspector.x.sentence": {
        "en": "“{x}” is ranked {rank}; “{top}” leads it by {margin:.3f} in logit, so at T = {temperature:g} the model "
        "finds “{top}” {odds} times as likely as “{x}”.",
        "zh": "“{x}”排名第 {rank}；“{top}”的 logit 比它高 {margin:.3f}，所以在 T = {temperature:g} 时，模型认为“{top}”"
        "的可能性是“{x}”的 {odds} 倍。",
    },
    "inspector.x.is_top": {"en": "“{x}” is the top-1 class.", "zh": "“{x}”就是 top-1 类别。"},
    "inspector.x.no_temperature": {
        "en": "No temperature can change the ranking: dividing every logit by the same T > 0 keeps their order, "
        "and softmax keeps it too. T only moves the probabilities closer together or further apart.",
        "zh": "任何温度都改变不了排序：所有 logits 除以同一个 T > 0 后大小顺序不变，softmax 也保持这个顺序。"
        "T 只会让概率彼此靠近或拉开。",
    },
    "inspector.gradcam": {"en": "Where did each class look? (Grad-CAM)", "zh": "每个类别在看哪里？（Grad-CAM）"},
    "inspector.gradcam_toggle": {"en": "Show Grad-CAM for top-1 and X", "zh": "显示 top-1 与 X 的 Grad-CAM"},
    "inspector.gradcam_help": {
        "en": "Captum's LayerGradCam on the last convolutional feature map, upsampled onto the model's input. "
        "Computed only when switched on (a backward pass per class).",
        "zh": "在最后一个卷积特征图上运行 Captum 的 LayerGradCam，并放大叠加到模型输入上。仅在打开时计算（每个类别一次反向传播）。",
    },
    "inspector.gradcam_running": {"en": "Computing Grad-CAM…", "zh": "正在计算 Grad-CAM…"},
    "inspector.gradcam_input": {"en": "Model input", "zh": "模型输入"},
    "inspector.gradcam_top1": {"en": "Top-1", "zh": "Top-1"},
    "inspector.gradcam_x": {"en": "X", "zh": "X"},
    "inspector.gradcam_caption": {
        "en": "Red = the regions whose features raised that class's logit most; each map is scaled to its own maximum.",
        "zh": "红色表示最能提高该类别 logit 的区域；每张图按各自的最大值缩放。",
    },
    # compare two models
    "inspector.compare_pick": {"en": "Second model", "zh": "第二个模型"},
    "inspector.compare_placeholder": {"en": "Choose a model to compare with…", "zh": "选择一个用于比较的模型…"},
    "inspector.compare_intro": {
        "en": "Runs the same image through a second model (with its own preprocessing) and lists both top-5s.",
        "zh": "让同一张图片经过第二个模型（使用它自己的预处理），并列出两者的前 5 名。",
    },
    "inspector.compare_agree": {"en": "Both models say: {first}.", "zh": "两个模型的结论一致：{first}。"},
    "inspector.compare_disagree": {
        "en": "The models disagree: {first} vs {second}.",
        "zh": "两个模型的结论不同：{first} 对比 {second}。",
    },
    "inspector.compare_preprocessing": {
        "en": "Preprocessing: {first} | {second}",
        "zh": "预处理：{first} | {second}",
    },
}
