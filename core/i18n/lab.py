"""UI strings of the lab page: key -> {"en": ..., "zh": ...}."""

from __future__ import annotations

STRINGS: dict[str, dict[str, str]] = {
    # header, toolbar
    "lab.title": {"en": "Logits Lab", "zh": "Logits 实验室"},
    "lab.intro": {
        "en": "Type or edit logits and watch softmax, temperature, top-k / top-p and the math update at once. No model needed.",
        "zh": "输入或修改 logits，立即看到 softmax、温度、top-k / top-p 以及背后的数学如何变化。无需模型。",
    },
    "lab.preset": {"en": "Example", "zh": "示例"},
    "lab.preset.placeholder": {"en": "Load an example…", "zh": "载入一个示例…"},
    "lab.preset.help": {
        "en": "Replaces the table with an example. Choosing the same example again resets your edits.",
        "zh": "用示例替换表格。再次选择同一个示例会撤销你的修改。",
    },
    "lab.preset.news": {
        "en": "news / entertainment / technology  [2.0, 1.0, 0.1]",
        "zh": "新闻 / 娱乐 / 科技  [2.0, 1.0, 0.1]",
    },
    "lab.preset.news.labels": {"en": "news, entertainment, technology", "zh": "新闻, 娱乐, 科技"},
    "lab.preset.pets": {"en": "cat / dog / bird  [2.0, 1.0, 0.5]", "zh": "猫 / 狗 / 鸟  [2.0, 1.0, 0.5]"},
    "lab.preset.pets.labels": {"en": "cat, dog, bird", "zh": "猫, 狗, 鸟"},
    "lab.preset.four": {"en": "four classes  [2.0, 1.0, 0.1, 0.5]", "zh": "四个类别  [2.0, 1.0, 0.1, 0.5]"},
    "lab.preset.four.labels": {"en": "news, entertainment, technology, sports", "zh": "新闻, 娱乐, 科技, 体育"},
    "lab.preset.ten": {"en": "ten classes, Chinese labels (猫, 狗, …)", "zh": "十个类别，中文标签（猫、狗……）"},
    "lab.preset.near_tie": {"en": "near tie  [12.1, 11.9, 11.8]", "zh": "几乎并列  [12.1, 11.9, 11.8]"},
    "lab.preset.near_tie.labels": {"en": "tabby cat, tiger cat, Egyptian cat", "zh": "虎斑猫, 虎猫, 埃及猫"},
    "lab.preset.overflow": {"en": "overflow  [1000, 1001, 1002]", "zh": "溢出  [1000, 1001, 1002]"},
    "lab.preset.uniform": {"en": "uniform (all logits equal)", "zh": "均匀分布（所有 logits 相等）"},
    "lab.preset.random": {"en": "random (seeded; a new seed each time)", "zh": "随机（固定种子；每次换一个种子）"},
    "lab.preset.inspector": {"en": "from the Image Inspector", "zh": "来自图片检查器"},
    "lab.class_n": {"en": "class {i}", "zh": "类别 {i}"},
    "lab.import": {"en": "Import", "zh": "导入"},
    "lab.paste": {"en": "Paste numbers", "zh": "粘贴数字"},
    "lab.paste.help": {
        "en": "Numbers separated by commas, spaces or new lines; or one 'label value' pair per line. [ ] and tensor(...) are ignored.",
        "zh": "用逗号、空格或换行分隔的数字；或每行一个“标签 数值”。方括号和 tensor(...) 会被忽略。",
    },
    "lab.paste.load": {"en": "Use these numbers", "zh": "使用这些数字"},
    "lab.upload": {"en": "…or upload CSV / JSON / .npy", "zh": "……或上传 CSV / JSON / .npy"},
    "lab.upload.help": {
        "en": 'CSV: a logit column (and a label column). JSON: a list, {"labels": [...], "logits": [...]} or {"label": logit}. .npy: one numeric vector.',
        "zh": 'CSV：一列 logit（可加一列标签）。JSON：列表、{"labels": [...], "logits": [...]} 或 {"标签": logit}。.npy：一个数值向量。',
    },
    "lab.loaded": {"en": "Loaded {n} classes.", "zh": "已载入 {n} 个类别。"},
    "lab.import_failed": {
        "en": "Could not import: {error} The table was not changed.",
        "zh": "无法导入：{error} 表格没有改变。",
    },
    "lab.source.pasted": {"en": "pasted numbers", "zh": "粘贴的数字"},
    "lab.source.link": {"en": "shared link", "zh": "分享链接"},
    "lab.source.inverse": {"en": "logits from probabilities", "zh": "由概率反推的 logits"},
    "lab.export": {"en": "Export", "zh": "导出"},
    "lab.export.help": {
        "en": "All {n} classes with their probability at the current T. Both files can be imported again.",
        "zh": "全部 {n} 个类别及其在当前 T 下的概率。两种文件都可以再次导入。",
    },
    "lab.share": {"en": "Share", "zh": "分享"},
    "lab.share.help": {
        "en": "The address bar always holds this link: logits, labels, T, k, top-p and mode. Opening it restores them exactly.",
        "zh": "地址栏始终是这个链接：包含 logits、标签、T、k、top-p 和模式。打开它会原样恢复。",
    },
    "lab.share.rest": {
        "en": "The link keeps the other {n} classes' logits (as float32) but not their names.",
        "zh": "链接保留了其余 {n} 个类别的 logits（float32），但不包含它们的名称。",
    },
    "lab.share.too_long": {
        "en": "{n} classes are too many for a link. Export JSON instead and share the file.",
        "zh": "{n} 个类别太多，无法放进链接。请改为导出 JSON 并分享文件。",
    },
    "lab.link_problem": {
        "en": "The link has a broken parameter: {error} The default is used for it.",
        "zh": "链接中有参数无效：{error} 该项改用默认值。",
    },
    # knobs
    "lab.temperature": {"en": "Temperature T (log scale)", "zh": "温度 T（对数刻度）"},
    "lab.temperature.help": {
        "en": "softmax(z / T). T < 1 sharpens, T > 1 flattens; the ranking never changes. Arrow keys move the slider.",
        "zh": "softmax(z / T)。T < 1 使分布更尖锐，T > 1 使其更平坦；排序永远不变。可用方向键移动滑块。",
    },
    "lab.k.help": {"en": "Top-k keeps the k most likely classes.", "zh": "top-k 保留概率最高的 k 个类别。"},
    "lab.top_p.help": {
        "en": "Top-p (nucleus) keeps the fewest most likely classes whose total probability reaches p.",
        "zh": "top-p（核采样）保留总概率达到 p 的最少数量的高概率类别。",
    },
    "lab.mode": {"en": "Scores", "zh": "分数"},
    "lab.mode.help": {
        "en": "softmax: one distribution over classes (sums to 1). sigmoid: an independent yes/no score per class (multi-label).",
        "zh": "softmax：所有类别上的一个分布（和为 1）。sigmoid：每个类别独立的是/否分数（多标签）。",
    },
    # table
    "lab.col.label": {"en": "label", "zh": "标签"},
    "lab.col.logit": {"en": "logit", "zh": "logit"},
    "lab.col.logit.help": {
        "en": "Any finite number. Tab / Enter move between cells.",
        "zh": "任意有限数值。Tab / Enter 在单元格之间移动。",
    },
    "lab.col.rank": {"en": "rank", "zh": "排名"},
    "lab.col.cumulative": {"en": "cumulative", "zh": "累计"},
    "lab.col.p_top_k": {"en": "p after top-k", "zh": "top-k 后的 p"},
    "lab.col.p_top_p": {"en": "p after top-p", "zh": "top-p 后的 p"},
    "lab.col.naive": {"en": "naive p · float{bits}", "zh": "朴素 p · float{bits}"},
    "lab.col.stable": {"en": "stable p · float{bits}", "zh": "稳定 p · float{bits}"},
    "lab.col.claimed": {"en": "claimed", "zh": "声称值"},
    "lab.col.actual": {"en": "true value", "zh": "真实值"},
    "lab.col.difference": {"en": "difference", "zh": "差值"},
    "lab.rest": {"en": "all other classes ({n})", "zh": "其余所有类别（{n} 个）"},
    "lab.keeping_last": {
        "en": "{error} Showing the last valid table until this is fixed.",
        "zh": "{error} 在修正之前，显示的是上一个有效的表格。",
    },
    "lab.source": {"en": "Source: {source} · {n} classes", "zh": "来源：{source} · {n} 个类别"},
    "lab.edited": {"en": "edited", "zh": "已修改"},
    "lab.inspector_n": {"en": "Editable top classes", "zh": "可编辑的前几个类别"},
    "lab.summary": {
        "en": "Most likely: {top} ({p}) · entropy {h} bits of at most {h_max} · sum of scores {total}",
        "zh": "最可能：{top}（{p}）· 熵 {h} 比特（最大 {h_max}）· 分数之和 {total}",
    },
    "lab.sigmoid_sum": {
        "en": "Sigmoid scores are independent: their sum need not be 100%.",
        "zh": "sigmoid 分数彼此独立：它们的和不必是 100%。",
    },
    # tabs
    "lab.tab.temperature": {"en": "Temperature", "zh": "温度"},
    "lab.tab.filters": {"en": "Top-k & top-p", "zh": "Top-k 与 top-p"},
    "lab.tab.steps": {"en": "Step by step", "zh": "逐步计算"},
    "lab.tab.dim": {"en": "dim", "zh": "dim 维度"},
    "lab.tab.sigmoid": {"en": "Sigmoid vs softmax", "zh": "Sigmoid 与 softmax"},
    "lab.tab.claims": {"en": "Claims checker", "zh": "核对声称的概率"},
    "lab.tab.inverse": {"en": "Inverse", "zh": "反推 logits"},
    # figures
    "lab.fig.headline": {"en": "Logits and their probabilities", "zh": "logits 及其概率"},
    "lab.fig.headline_sigmoid": {"en": "Logits and their sigmoid scores", "zh": "logits 及其 sigmoid 分数"},
    "lab.fig.sweep": {"en": "Each class's probability as T changes", "zh": "各类别概率随 T 的变化"},
    "lab.fig.entropy": {"en": "Entropy vs temperature", "zh": "熵随温度的变化"},
    "lab.fig.filters": {"en": "What top-k and top-p keep", "zh": "top-k 与 top-p 保留了什么"},
    "lab.fig.sampling": {"en": "Sampled vs expected", "zh": "抽样结果与期望值"},
    "lab.fig.dim": {"en": "softmax over dim=0 and dim=1", "zh": "沿 dim=0 与 dim=1 的 softmax"},
    "lab.fig.sigmoid": {"en": "Softmax vs sigmoid on the same logits", "zh": "同一组 logits 的 softmax 与 sigmoid"},
    "lab.chart.other_n": {"en": "other {n}", "zh": "其余 {n} 个"},
    "lab.chart.p_all": {"en": "p (all classes)", "zh": "p（全部类别）"},
    "lab.chart.after_top_k": {"en": "after top-k (k = {k})", "zh": "top-k 之后（k = {k}）"},
    "lab.chart.after_top_p": {"en": "after top-p (p = {p})", "zh": "top-p 之后（p = {p}）"},
    "lab.chart.cumulative": {"en": "cumulative p", "zh": "累计 p"},
    "lab.chart.probability": {"en": "probability", "zh": "概率"},
    "lab.chart.expected": {"en": "expected (p)", "zh": "期望（p）"},
    "lab.chart.observed": {"en": "observed in {n} draws", "zh": "{n} 次抽样的观测值"},
    "lab.chart.frequency": {"en": "frequency", "zh": "频率"},
    "lab.chart.dim0": {"en": "dim=0: each column sums to 1", "zh": "dim=0：每一列之和为 1"},
    "lab.chart.dim1": {"en": "dim=1: each row sums to 1", "zh": "dim=1：每一行之和为 1"},
    "lab.chart.column": {"en": "column", "zh": "列"},
    "lab.chart.row": {"en": "row", "zh": "行"},
    # temperature
    "lab.ratio": {
        "en": "Temperature divides every gap between logits. Here **{a}** vs **{b}**: the gap is {gap}, so p({a}) / p({b}) = exp({gap} / {t}) = **{r}** (at T = 1: {r1}).",
        "zh": "温度会把 logits 之间的每个差值都除以 T。这里 **{a}** 对 **{b}**：差值为 {gap}，所以 p({a}) / p({b}) = exp({gap} / {t}) = **{r}**（T = 1 时为 {r1}）。",
    },
    "lab.temperature.caption": {
        "en": "As T → 0 all probability goes to the largest logit; as T → ∞ the distribution becomes uniform and the entropy reaches log2(C).",
        "zh": "当 T → 0 时，全部概率集中到最大的 logit；当 T → ∞ 时，分布趋于均匀，熵达到 log2(C)。",
    },
    # filters and sampling
    "lab.filters.caption": {
        "en": "Top-k keeps the {k} largest; top-p keeps the fewest most likely classes whose total reaches {p}. Both then renormalise the survivors to sum to 1. Filters act on softmax probabilities.",
        "zh": "top-k 保留最大的 {k} 个；top-p 保留总和达到 {p} 的最少数量的高概率类别。两者都会把保留下来的类别重新归一化，使其和为 1。过滤作用于 softmax 概率。",
    },
    "lab.filters.k_survivors": {"en": "classes kept by top-{k}", "zh": "top-{k} 保留的类别数"},
    "lab.filters.p_survivors": {"en": "classes kept by top-p {p}", "zh": "top-p {p} 保留的类别数"},
    "lab.sampling": {"en": "Sampling simulation", "zh": "抽样模拟"},
    "lab.sampling.n": {"en": "draws N", "zh": "抽样次数 N"},
    "lab.sampling.seed": {"en": "seed", "zh": "随机种子"},
    "lab.sampling.from": {"en": "sample from", "zh": "抽样分布"},
    "lab.sampling.from.full": {"en": "full softmax", "zh": "完整 softmax"},
    "lab.sampling.from.top_k": {"en": "top-{k}", "zh": "top-{k}"},
    "lab.sampling.from.top_p": {"en": "top-p {p}", "zh": "top-p {p}"},
    "lab.sampling.error": {
        "en": "Largest gap between observed frequency and probability: {gap} percentage points (sampling noise is about {scale} points at this N; it shrinks like 1/√N).",
        "zh": "观测频率与概率之间的最大差距：{gap} 个百分点（在这个 N 下抽样噪声约为 {scale} 个百分点，按 1/√N 缩小）。",
    },
    # step by step
    "lab.steps.sum": {"en": "Σ exp((z − max) / T)", "zh": "Σ exp((z − max) / T)"},
    "lab.naive": {"en": "Naive vs stable", "zh": "朴素算法与稳定算法"},
    "lab.naive.caption": {
        "en": "The naive formula exp(z/T) / Σ exp(z/T) overflows: float32 exp is inf above z ≈ 88.7, float16 above z ≈ 11.1, and inf / inf = NaN. Subtracting the max first gives the same p without overflow.",
        "zh": "朴素公式 exp(z/T) / Σ exp(z/T) 会溢出：float32 的 exp 在 z ≈ 88.7 以上为 inf，float16 在 z ≈ 11.1 以上为 inf，而 inf / inf = NaN。先减去最大值，可以得到同样的 p 且不会溢出。",
    },
    "lab.naive.overflow32": {
        "en": "The naive formula overflows here even in float32 (inf and NaN above); the stable one is exact.",
        "zh": "这里即使在 float32 下朴素公式也会溢出（上表中的 inf 和 NaN）；稳定算法结果准确。",
    },
    "lab.naive.overflow16": {
        "en": "float32 copes with these logits, but the naive formula overflows in float16 (see the float16 columns).",
        "zh": "float32 可以处理这些 logits，但朴素公式在 float16 下会溢出（见 float16 列）。",
    },
    "lab.naive.fine": {
        "en": "No overflow for these logits; try the 'overflow' example or a small T.",
        "zh": "这些 logits 不会溢出；试试“溢出”示例或更小的 T。",
    },
    # dim
    "lab.dim.caption": {
        "en": "For a batch of logits (rows = images, columns = classes) softmax must run over the class dimension, dim=1 (or dim=-1). dim=0 normalises each class across the batch, which is rarely what you want.",
        "zh": "对于一批 logits（行 = 图片，列 = 类别），softmax 必须沿类别维度 dim=1（或 dim=-1）计算。dim=0 会在整个批次上对每个类别做归一化，这通常不是你想要的。",
    },
    "lab.dim.help": {"en": "Edit cells or add rows (up to 20 × 20).", "zh": "可编辑单元格或添加行（最多 20 × 20）。"},
    "lab.dim.columns": {"en": "columns (classes)", "zh": "列数（类别数）"},
    "lab.dim.code0": {"en": "each column sums to 1", "zh": "每一列之和为 1"},
    "lab.dim.code1": {"en": "each row sums to 1: one distribution per image", "zh": "每一行之和为 1：每张图片一个分布"},
    # sigmoid
    "lab.sigmoid.caption": {
        "en": "Softmax makes the classes compete for one unit of probability; sigmoid scores each class on its own (multi-label). The same logits, different questions.",
        "zh": "softmax 让各类别争夺总量为 1 的概率；sigmoid 对每个类别单独打分（多标签）。同样的 logits，回答的是不同的问题。",
    },
    "lab.sigmoid.softmax_sum": {"en": "sum of softmax", "zh": "softmax 之和"},
    "lab.sigmoid.sigmoid_sum": {"en": "sum of sigmoid", "zh": "sigmoid 之和"},
    # claims
    "lab.claims.caption": {
        "en": "Paste the probabilities someone claims for these logits (a tutorial, another tool): {n} values, in table order, checked against softmax at T = {t}. Percentages work.",
        "zh": "粘贴别人声称这些 logits 对应的概率（教程、其他工具）：共 {n} 个值，按表格顺序，与 T = {t} 时的 softmax 对照。也可以用百分数。",
    },
    "lab.claims.input": {"en": "Claimed probabilities", "zh": "声称的概率"},
    "lab.claims.fill": {"en": "Fill in the true values", "zh": "填入真实值"},
    "lab.claims.one_softmax_yes": {
        "en": "These values **could** come from one softmax (all in [0, 1], summing to 1).",
        "zh": "这些数值**可能**来自同一个 softmax（都在 [0, 1] 内，且和为 1）。",
    },
    "lab.claims.one_softmax_no": {
        "en": "These values **cannot** come from one softmax at all, whatever the logits.",
        "zh": "无论 logits 是什么，这些数值都**不可能**来自同一个 softmax。",
    },
    # inverse
    "lab.inverse.caption": {
        "en": "Logits are only defined up to a constant: softmax(z + c) = softmax(z). Taking log p and centring it gives one valid choice.",
        "zh": "logits 只在相差一个常数的意义下确定：softmax(z + c) = softmax(z)。取 log p 再减去均值，就得到一个合法的选择。",
    },
    "lab.inverse.input": {"en": "Probabilities", "zh": "概率"},
    "lab.inverse.normalised": {
        "en": "These sum to {total}; they were divided by it first (it changes no logit after centring).",
        "zh": "它们的和为 {total}；已先除以该值（中心化之后不影响任何 logit）。",
    },
    "lab.inverse.zeros": {
        "en": "{n} value(s) are 0: no finite logit gives exactly 0, so they are taken as {floor:g} (a very negative logit).",
        "zh": "有 {n} 个值为 0：没有有限的 logit 能得到恰好为 0 的概率，因此按 {floor:g} 处理（对应一个非常小的负 logit）。",
    },
    "lab.inverse.check": {
        "en": "Check: softmax of these logits gives the probabilities back within {gap}.",
        "zh": "验证：这些 logits 的 softmax 还原出的概率误差在 {gap} 以内。",
    },
    "lab.inverse.use": {"en": "Use these logits in the table", "zh": "把这些 logits 放入表格"},
    # errors a person can cause (core.lab raises them)
    "lab.err.too_many": {
        "en": "{count:,} values: the Logits Lab takes at most {limit:,} classes. Paste or upload fewer.",
        "zh": "共 {count:,} 个数值：Logits 实验室最多接受 {limit:,} 个类别。请粘贴或上传更少的数据。",
    },
    "lab.err.too_few": {
        "en": "Got {count} value(s): softmax needs at least 2 classes to compare (with one, p is always 100%).",
        "zh": "只有 {count} 个数值：softmax 至少需要 2 个类别来比较（只有一个时 p 永远是 100%）。",
    },
    "lab.err.not_finite": {
        "en": "Value {item} is {value}: logits must be finite numbers.",
        "zh": "第 {item} 个数值是 {value}：logits 必须是有限的数。",
    },
    "lab.err.label_count": {
        "en": "{labels} labels for {logits} logits: give one label per logit.",
        "zh": "{labels} 个标签对应 {logits} 个 logits：每个 logit 需要一个标签。",
    },
    "lab.err.label_long": {
        "en": "The label in row {row} is {chars} characters long; at most {limit}.",
        "zh": "第 {row} 行的标签长 {chars} 个字符；最多 {limit} 个。",
    },
    "lab.err.rest_not_finite": {
        "en": "The other classes' logits contain NaN or inf.",
        "zh": "其余类别的 logits 中含有 NaN 或 inf。",
    },
    "lab.err.no_logit_column": {"en": "The table has no logit column.", "zh": "表格中没有 logit 列。"},
    "lab.err.empty": {
        "en": "The table is empty: add at least 2 rows.",
        "zh": "表格是空的：请至少添加 2 行。",
    },
    "lab.err.cell_empty": {
        "en": "Row {row} ({label}) has no logit: type a number such as 1.5 (text is not accepted).",
        "zh": "第 {row} 行（{label}）没有 logit：请输入一个数字，例如 1.5（不接受文字）。",
    },
    "lab.err.cell_text": {
        "en": "Row {row} ({label}): '{text}' is not a number.",
        "zh": "第 {row} 行（{label}）：“{text}”不是数字。",
    },
    "lab.err.cell_not_finite": {
        "en": "Row {row} ({label}) is {value}: logits must be finite numbers.",
        "zh": "第 {row} 行（{label}）是 {value}：logits 必须是有限的数。",
    },
    "lab.err.nothing_pasted": {"en": "There are no numbers to read.", "zh": "没有可读取的数字。"},
    "lab.err.not_a_number": {
        "en": "Value {item}, '{text}', is not a number.",
        "zh": "第 {item} 个值“{text}”不是数字。",
    },
    "lab.err.not_utf8": {
        "en": "{name} is not UTF-8 text (byte {position}).",
        "zh": "{name} 不是 UTF-8 文本（第 {position} 个字节）。",
    },
    "lab.err.csv": {"en": "{name} is not valid CSV: {detail}.", "zh": "{name} 不是有效的 CSV：{detail}。"},
    "lab.err.file_empty": {"en": "{name} is empty.", "zh": "{name} 是空文件。"},
    "lab.err.csv_ragged": {
        "en": "{name}, row {row}: {cells} cells where the other rows have {width}.",
        "zh": "{name} 第 {row} 行：有 {cells} 个单元格，而其他行有 {width} 个。",
    },
    "lab.err.csv_columns": {
        "en": "{name} has {width} columns: name the logit column 'logit' (and the label column 'label').",
        "zh": "{name} 有 {width} 列：请把 logit 列命名为 'logit'（标签列命名为 'label'）。",
    },
    "lab.err.csv_cell": {
        "en": "{name}, row {row}, column {column}: '{text}' is not a number.",
        "zh": "{name} 第 {row} 行第 {column} 列：“{text}”不是数字。",
    },
    "lab.err.csv_not_finite": {
        "en": "{name}, row {row}, column {column} is {value}: logits must be finite numbers.",
        "zh": "{name} 第 {row} 行第 {column} 列是 {value}：logits 必须是有限的数。",
    },
    "lab.err.json": {
        "en": "{name} is not valid JSON: {detail} (line {line}, column {column}).",
        "zh": "{name} 不是有效的 JSON：{detail}（第 {line} 行第 {column} 列）。",
    },
    "lab.err.json_labels": {
        "en": '{name}: "labels" must be a list of strings.',
        "zh": '{name}："labels" 必须是字符串列表。',
    },
    "lab.err.json_layout": {
        "en": '{name}: expected a list of numbers, {{"labels": [...], "logits": [...]}} or {{"label": logit, ...}}.',
        "zh": '{name}：应为数字列表、{{"labels": [...], "logits": [...]}} 或 {{"标签": logit, ...}}。',
    },
    "lab.err.json_item": {
        "en": "{name}: logit {item} is {text}, not a number.",
        "zh": "{name}：第 {item} 个 logit 是 {text}，不是数字。",
    },
    "lab.err.npy": {
        "en": "{name} is not a readable .npy file ({detail}).",
        "zh": "{name} 不是可读取的 .npy 文件（{detail}）。",
    },
    "lab.err.npy_object": {
        "en": "{name} holds Python objects; only numeric arrays are read (pickles are never loaded).",
        "zh": "{name} 包含 Python 对象；只读取数值数组（从不加载 pickle）。",
    },
    "lab.err.npy_dtype": {
        "en": "{name} holds {dtype} values; logits must be integers or floats.",
        "zh": "{name} 中是 {dtype} 类型的值；logits 必须是整数或浮点数。",
    },
    "lab.err.npy_shape": {
        "en": "{name} has shape {shape}: give one vector of logits, shape (C,) or (1, C).",
        "zh": "{name} 的形状是 {shape}：请提供一个 logits 向量，形状为 (C,) 或 (1, C)。",
    },
    "lab.err.file_large": {
        "en": "{name} is {size:,} bytes; the lab reads files up to {limit:,} bytes.",
        "zh": "{name} 有 {size:,} 字节；实验室最多读取 {limit:,} 字节的文件。",
    },
    "lab.err.file_type": {
        "en": "{name}: upload a .csv, .tsv, .json, .npy or .txt file.",
        "zh": "{name}：请上传 .csv、.tsv、.json、.npy 或 .txt 文件。",
    },
    "lab.err.preset": {"en": "There is no example called '{name}'.", "zh": "没有名为“{name}”的示例。"},
    "lab.err.no_handoff": {
        "en": "Nothing was handed over from the Image Inspector yet: open the Image Inspector, classify an image and send it to the Logits Lab. The table was not changed.",
        "zh": "图片检查器还没有传来任何数据：请打开图片检查器，对一张图片进行分类，再把结果发送到 Logits 实验室。表格没有改变。",
    },
    "lab.err.bad_handoff": {
        "en": "The Image Inspector handed over something unusable: {detail}.",
        "zh": "图片检查器传来的数据无法使用：{detail}。",
    },
    "lab.err.mode": {
        "en": "Unknown mode '{mode}': use softmax or sigmoid.",
        "zh": "未知模式“{mode}”：请使用 softmax 或 sigmoid。",
    },
    "lab.err.filter": {"en": "Unknown filter '{which}'.", "zh": "未知的过滤方式“{which}”。"},
    "lab.err.draws": {
        "en": "{n} draws: choose between 1 and {limit:,}.",
        "zh": "{n} 次抽样：请在 1 到 {limit:,} 之间选择。",
    },
    "lab.err.matrix_empty": {"en": "The matrix is empty: add a row.", "zh": "矩阵是空的：请添加一行。"},
    "lab.err.matrix_large": {
        "en": "The matrix is {rows} × {columns}; at most {limit} × {limit}.",
        "zh": "矩阵大小为 {rows} × {columns}；最多 {limit} × {limit}。",
    },
    "lab.err.matrix_cell": {
        "en": "Matrix row {row}, column {column} is not a number.",
        "zh": "矩阵第 {row} 行第 {column} 列不是数字。",
    },
    "lab.err.negative_prob": {
        "en": "Probabilities cannot be negative.",
        "zh": "概率不能为负数。",
    },
    "lab.err.zero_probs": {
        "en": "All probabilities are 0: at least one must be positive.",
        "zh": "所有概率都是 0：至少要有一个为正数。",
    },
    "lab.err.claims_count": {
        "en": "{claims} claimed values for {n} classes: give one per class, in table order.",
        "zh": "{claims} 个声称值对应 {n} 个类别：请按表格顺序为每个类别给出一个值。",
    },
    "lab.err.link_rest": {
        "en": "the other classes' logits in the link cannot be read ({detail})",
        "zh": "链接中其余类别的 logits 无法读取（{detail}）",
    },
    "lab.err.link_labels": {
        "en": "the link has {labels} labels for {logits} logits, so the classes are numbered instead.",
        "zh": "链接中有 {labels} 个标签却有 {logits} 个 logits，因此改用编号命名类别。",
    },
    "lab.err.link_logits": {
        "en": "the logits in the link cannot be used: {detail}",
        "zh": "链接中的 logits 无法使用：{detail}",
    },
    "lab.err.link_no_logits": {
        "en": "the link has labels but no logits.",
        "zh": "链接中有标签但没有 logits。",
    },
    "lab.err.link_t": {
        "en": "T = '{text}' is not a temperature between {low:g} and {high:g}.",
        "zh": "T = “{text}”不是 {low:g} 到 {high:g} 之间的温度。",
    },
    "lab.err.link_k": {"en": "k = '{text}' is not a whole number ≥ 1.", "zh": "k = “{text}”不是 ≥ 1 的整数。"},
    "lab.err.link_k_large": {
        "en": "k = {k} is more than the {size} classes; k = {size} is used.",
        "zh": "k = {k} 超过了类别总数 {size}；改用 k = {size}。",
    },
    "lab.err.link_top_p": {
        "en": "top_p = '{text}' is not a number in (0, 1].",
        "zh": "top_p = “{text}”不是 (0, 1] 之间的数。",
    },
    "lab.err.link_mode": {
        "en": "mode = '{text}' is neither softmax nor sigmoid.",
        "zh": "mode = “{text}”既不是 softmax 也不是 sigmoid。",
    },
}
