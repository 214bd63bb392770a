"""Debugging a labelled set: label issues (cleanlab), per-image scores, per-class report (scikit-learn),
the many-classes confusion view, features (a forward hook as the oracle), maps, look-alikes and
near-duplicates (brute force and scikit-learn as oracles), two-model agreement and weak slices."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision
from PIL import Image
from scipy.stats import entropy as scipy_entropy
from sklearn.decomposition import PCA
from sklearn.metrics import classification_report, precision_recall_fscore_support
from sklearn.neighbors import NearestNeighbors

from core.datasets.readers import MemoryReader
from core.datasets.sets import LabelledSet
from core.datasets.sources import digits_set
from core.diagnose import classes, compare, embedding, label_issues, slices
from core.errors import InputError
from core.evaluate import scores
from core.evaluate.files import read_results, results_bytes, results_frame
from core.evaluate.records import per_class_table, records_table
from core.evaluate.result import EvalResult
from core.evaluate.run import ImageFileDataset, collate, evaluate
from core.features import forward_with_features, head_module, head_path, resolve_module
from core.models.registry import get_spec, load_model
from core.models.spec import LoadedModel

DIGITS = [str(i) for i in range(10)]
MOVED = 30


@pytest.fixture(scope="module")
def digits_model() -> LoadedModel:
    return load_model("digits_cnn", device=torch.device("cpu"))


def relabelled(moved: int, seed: int = 0) -> tuple[LabelledSet, set[str]]:
    """The held-out digits with `moved` images put into a wrong class folder ("3/0012.png" -> "8/0012.png")."""
    base = digits_set("test")
    rng = np.random.default_rng(seed)
    chosen = set(rng.choice(len(base.files), moved, replace=False).tolist())
    files: dict[str, bytes] = {}
    moved_names: set[str] = set()
    for i, name in enumerate(base.files):
        digit, rest = name.split("/", 1)
        if i in chosen:
            digit = str((int(digit) + int(rng.integers(1, 10))) % 10)
            moved_names.add(f"{digit}/{rest}")
        files[f"{digit}/{rest}"] = base.reader.read(name)
    names = tuple(sorted(files))
    labelled = LabelledSet(
        source="digits (test, relabelled)",
        files=names,
        targets=tuple(int(n.split("/", 1)[0]) for n in names),
        skipped=(),
        reader=MemoryReader(files),
        digest="relabelled",
    )
    return labelled, moved_names


# ---------------------------------------------------------------- label issues
def test_moved_labels_are_found_among_the_top_issues(digits_model: LoadedModel) -> None:
    labelled, moved = relabelled(MOVED)
    result = evaluate(digits_model, labelled, num_workers=0)
    probs = scores.probabilities(result.logits)
    issues = label_issues.label_issues(probs, result.targets.numpy())
    records = label_issues.issue_records(issues, result.files)
    top = {r["file"] for r in records[: 2 * MOVED]}
    found = len(moved & top) / MOVED
    assert found >= 0.8, f"only {found:.0%} of the moved images in the top {2 * MOVED}"
    # a record says what the folder claims and what the model says, from the same probabilities
    first = records[0]
    row = result.files.index(first["file"])
    assert first["given"] == int(result.targets[row]) == int(first["file"].split("/")[0])
    assert first["suggested"] == int(result.logits[row].argmax())
    assert first["score"] == pytest.approx(float(probs[row, first["given"]]), rel=1e-5)
    # ranked by self-confidence: the probability of the given label rises down the list
    assert (np.diff(issues["score"].to_numpy()) >= 0).all()


def test_label_issues_refuses_bad_input() -> None:
    with pytest.raises(InputError):
        label_issues.label_issues(np.full((3, 2), 0.5), np.array([0, 1]))
    with pytest.raises(InputError):
        label_issues.label_issues(np.full((3, 2), 0.5), np.array([0, 1, 2]))


def test_one_class_or_one_image_is_an_input_error_with_the_reason_not_cleanlabs_value_error() -> None:
    # four images all labelled 1, three of which the model puts elsewhere: what cleanlab itself says to that
    probs = np.array([[0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.8, 0.1, 0.1], [0.1, 0.8, 0.1]])
    with pytest.raises(ValueError, match="Labels must contain at least 2 classes"):
        from cleanlab.filter import find_label_issues

        find_label_issues(np.ones(4, dtype=int), probs, return_indices_ranked_by="self_confidence")
    with pytest.raises(InputError, match=r"label issues: needs images of at least 2 classes .* labelled class 1"):
        label_issues.label_issues(probs, np.ones(4, dtype=int))
    with pytest.raises(InputError, match="needs at least 2 images; this result has 1"):
        label_issues.label_issues(probs[:1], np.zeros(1, dtype=int))


def test_availability_names_each_tool_that_cannot_run_and_why() -> None:
    from core.diagnose.availability import TOOLS, availability
    from core.evaluate.result import EvalResult

    def result(n: int, classes: list[int], features: bool) -> EvalResult:
        return EvalResult(
            files=tuple(f"{i}.png" for i in range(n)),
            targets=torch.tensor(classes),
            logits=torch.zeros(n, 3),
            features=torch.ones(n, 4, dtype=torch.float16) if features else None,
        )

    full = availability(result(6, [0, 1, 2, 0, 1, 2], features=True))
    assert list(full) == list(TOOLS) and all(reason is None for reason in full.values())
    one = {k: str(v) if v else None for k, v in availability(result(1, [2], features=True), ["a", "b", "c"]).items()}
    assert one == {
        "label_issues": "needs at least 2 images; this result has 1",
        "per_image": None,
        "per_class": None,
        "pca_map": "needs at least 2 images; this result has 1",
        "tsne_map": "needs at least 5 images; this result has 1",
        "lookalikes": "needs at least 2 images; this result has 1",
        "near_duplicates": "needs at least 2 images; this result has 1",
        "slices": "needs at least 2 images; this result has 1",
        "compare": None,
    }
    same = availability(result(4, [1, 1, 1, 1], features=False), ["cat", "dog", "bird"])
    assert same["label_issues"].message("zh") == "需要至少 2 个类别的图片才能相互比较；这里的 4 张图片都标注为 dog"
    assert str(same["pca_map"]).startswith("the run kept no features") and same["slices"] is None


# ---------------------------------------------------------------- per-image scores
def test_hardness_margin_mistakenness_by_hand() -> None:
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 0.0], [5.0, -1.0, 1.0], [0.5, 3.0, 0.2]])
    targets = torch.tensor([0, 1, 2, 1])
    frame = scores.per_image_scores(logits, targets)
    for i, (row, y) in enumerate(zip(logits.tolist(), targets.tolist(), strict=True)):
        exps = [math.exp(v) for v in row]
        p = [e / sum(exps) for e in exps]
        h = -sum(q * math.log(q) for q in p)
        ordered = sorted(p, reverse=True)
        m = -1.0 if p.index(max(p)) == y else 1.0  # FiftyOne: -1 right, +1 wrong
        assert frame["hardness"][i] == pytest.approx(h, rel=1e-12)
        assert frame["hardness"][i] == pytest.approx(scipy_entropy(p), rel=1e-12)
        assert frame["margin"][i] == pytest.approx(ordered[0] - ordered[1], abs=1e-12)
        assert frame["mistakenness"][i] == pytest.approx((m * math.exp(-h) + 1) / 2, rel=1e-12)
    # uniform: entropy log 3, margin 0; a confident wrong answer is near 1, a confident right one near 0
    assert frame["hardness"][1] == pytest.approx(math.log(3))
    sure = scores.per_image_scores(torch.tensor([[30.0, 0.0], [30.0, 0.0]]), torch.tensor([0, 1]))
    assert sure["mistakenness"].tolist() == pytest.approx([0.0, 1.0], abs=1e-9)


def test_scores_at_a_temperature_and_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    g = torch.Generator().manual_seed(1)
    z, y = torch.randn(50, 7, generator=g) * 3, torch.randint(0, 7, (50,), generator=g)
    whole = scores.per_image_scores(z, y, temperature=2.0)
    direct = scores.per_image_scores(z / 2.0, y)
    pd.testing.assert_frame_equal(whole, direct, rtol=1e-9)
    monkeypatch.setattr(scores, "BLOCK_ROWS", 8)
    pd.testing.assert_frame_equal(scores.per_image_scores(z, y, temperature=2.0), whole)
    np.testing.assert_allclose(scores.probabilities(z), torch.softmax(z.double(), 1).numpy(), rtol=1e-6)


# ---------------------------------------------------------------- per class
def test_per_class_report_equals_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 8, 300)  # classes 8 and 9 never appear; 9 is never predicted either
    p = np.where(rng.random(300) < 0.6, y, rng.integers(0, 9, 300))
    report = classes.per_class_report(y, p, DIGITS, num_classes=10)
    precision, recall, f1, support = precision_recall_fscore_support(y, p, labels=range(10), zero_division=0)
    np.testing.assert_allclose(report["precision"], precision)
    np.testing.assert_allclose(report["recall"], recall)
    np.testing.assert_allclose(report["f1"], f1)
    assert report["support"].tolist() == support.tolist()
    text = classification_report(y, p, labels=range(10), output_dict=True, zero_division=0)
    for c in range(10):
        assert report["f1"][c] == pytest.approx(text[str(c)]["f1-score"])
    weakest = classes.weakest_first(report)
    assert 8 not in weakest["index"].tolist() and 9 not in weakest["index"].tolist()  # no image: not a weak class
    assert weakest["f1"].is_monotonic_increasing
    records = classes.per_class_records(report)
    assert [r["index"] for r in records] == list(range(10))
    assert records[3] == {
        "index": 3,
        "label": "3",
        "precision": precision[3],
        "recall": recall[3],
        "f1": f1[3],
        "support": int(support[3]),
    }


def test_recall_matches_the_per_class_accuracy_of_a_real_run(digits_model: LoadedModel) -> None:
    result = evaluate(digits_model, digits_set("test"), num_workers=0)
    records = records_table(result, DIGITS)
    predictions = result.logits.argmax(1).numpy()
    report = classes.per_class_report(result.targets.numpy(), predictions, DIGITS, num_classes=10)
    table = per_class_table(records, DIGITS).set_index("index")
    for c in range(10):
        assert report["recall"][c] == pytest.approx(table.loc[c, "accuracy"])
        assert report["support"][c] == table.loc[c, "count"]


def test_most_confused_keeps_the_worst_classes_and_folds_the_rest_into_other() -> None:
    matrix = np.diag([50, 40, 30, 20, 10]).astype(np.int64)
    matrix[0, 1] = 9  # 0 <-> 1 confused a lot
    matrix[1, 0] = 4
    matrix[3, 4] = 2
    matrix[2, 4] = 1
    view = classes.most_confused(matrix, top=2)
    assert view.classes == (0, 1) and view.has_other
    assert view.counts.tolist() == [[50, 9, 0], [4, 40, 0], [0, 0, 30 + 20 + 10 + 2 + 1]]
    assert view.counts.sum() == matrix.sum()
    whole = classes.most_confused(matrix, top=10)
    assert not whole.has_other and whole.counts.sum() == matrix.sum() and len(whole.classes) == 5
    y = np.array([0, 0, 1, 2])
    p = np.array([0, 1, 1, 0])
    assert classes.confusion_counts(y, p, num_classes=3).tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]


# ---------------------------------------------------------------- features
def test_head_paths_name_a_layer_with_one_output_per_class() -> None:
    for name in ("resnet18", "mobilenet_v3_small", "squeezenet1_1", "densenet121", "vit_b_32", "swin_t", "maxvit_t"):
        module = torchvision.models.get_model(name, weights=None).eval()
        head = resolve_module(module, head_path(get_spec(name)))
        assert getattr(head, "out_features", getattr(head, "out_channels", None)) == 1000, name
    for name in ("digits_cnn", "efficientnet_lite0"):
        assert head_path(get_spec(name)) in {"head", "_fc"}
    with pytest.raises(InputError):
        resolve_module(torch.nn.Linear(2, 2), "fc")


def test_features_equal_a_forward_hook_and_feed_the_head(digits_model: LoadedModel) -> None:
    x = torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    seen: list[torch.Tensor] = []
    hook = digits_model.module.features.register_forward_hook(lambda _m, _a, out: seen.append(out.flatten(1)))
    try:
        with torch.inference_mode():
            logits, features = forward_with_features(digits_model, x)
            expected = digits_model.module(x)
    finally:
        hook.remove()
    assert features.dtype == torch.float16 and features.shape == (6, 512)
    torch.testing.assert_close(features.float(), seen[0], rtol=1e-3, atol=2e-3)
    torch.testing.assert_close(logits, expected)
    with torch.inference_mode():
        torch.testing.assert_close(head_module(digits_model)(features.float()), logits, rtol=1e-2, atol=2e-2)
    assert not digits_model.module._forward_pre_hooks and not head_module(digits_model)._forward_pre_hooks


def test_features_of_a_torchvision_model_and_a_conv_head() -> None:
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    for name, layer in (("resnet18", "avgpool"), ("squeezenet1_1", "features")):
        module = torchvision.models.get_model(name, weights=None).eval()
        model = LoadedModel(get_spec(name), module, torch.device("cpu"))
        seen: list[torch.Tensor] = []
        hook = resolve_module(module, layer).register_forward_hook(lambda _m, _a, out, seen=seen: seen.append(out))
        try:
            with torch.inference_mode():
                _, features = forward_with_features(model, x)
        finally:
            hook.remove()
        torch.testing.assert_close(features.float(), seen[0].mean(dim=(2, 3)), rtol=1e-3, atol=1e-3)


def digits_features(model: LoadedModel, labelled: LabelledSet) -> tuple[np.ndarray, np.ndarray]:
    dataset = ImageFileDataset(labelled, model.spec.preprocessing.transform())
    _, batch, errors, _ = collate([dataset[i] for i in range(len(dataset))])
    assert batch is not None and not errors
    with torch.inference_mode():
        logits, features = forward_with_features(model, batch)
    return logits.numpy(), features.numpy()


def test_a_copied_image_is_its_copys_nearest_neighbour_and_a_near_duplicate(digits_model: LoadedModel) -> None:
    base = digits_set("test")
    files = {name: base.reader.read(name) for name in base.files}
    original = base.files[17]
    files[f"{original.split('/')[0]}/copy_of_{original.split('/')[1]}"] = files[original]
    names = tuple(sorted(files))
    labelled = LabelledSet("copy", names, tuple(int(n[0]) for n in names), (), MemoryReader(files), "copy")
    _, features = digits_features(digits_model, labelled)
    index = embedding.FeatureIndex(features)
    copy = names.index(f"{original.split('/')[0]}/copy_of_{original.split('/')[1]}")
    source = names.index(original)
    indices, sims = index.neighbours([copy, source], k=5)
    assert indices[0, 0] == source and indices[1, 0] == copy
    assert sims[0, 0] == pytest.approx(1.0, abs=1e-5)
    pairs = index.duplicates(threshold=0.999)
    assert (min(copy, source), max(copy, source)) in set(zip(pairs["a"], pairs["b"], strict=True))


# ---------------------------------------------------------------- maps and neighbours
def test_neighbours_and_duplicates_against_brute_force(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 16)).astype(np.float32)
    x[200] = x[10] * 2.0  # same direction: cosine 1
    x[201] = x[11] + 0.01
    monkeypatch.setattr(embedding, "BLOCK_ROWS", 64)  # several blocks, pairs across block edges
    monkeypatch.setattr(embedding, "PAIR_ROWS", 64)
    monkeypatch.setattr(embedding, "SCAN_ROWS", 100)
    index = embedding.FeatureIndex(x)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    indices, sims = index.neighbours(np.arange(300), k=4)
    oracle = NearestNeighbors(n_neighbors=5, metric="cosine").fit(x)
    distances, expected = oracle.kneighbors(x)
    np.testing.assert_allclose(sims, 1 - distances[:, 1:], atol=1e-5)
    assert (indices[:, 0] == expected[:, 1]).mean() > 0.99  # ties aside, the same nearest neighbour
    full = unit @ unit.T
    a, b = np.nonzero(np.triu(full, 1) >= 0.5)
    pairs = index.duplicates(threshold=0.5)
    assert set(zip(pairs["a"], pairs["b"], strict=True)) == set(zip(a, b, strict=True))
    assert pairs["similarity"].is_monotonic_decreasing
    assert (pairs.iloc[0]["a"], pairs.iloc[0]["b"]) == (10, 200)
    assert len(index.duplicates(threshold=0.5, max_pairs=3)) == 3


def test_a_few_queries_on_a_large_set_come_from_the_sketch_and_equal_the_full_scan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((300, 64)).astype(np.float32)
    x = (centres[rng.integers(0, 300, 6000)] + 0.3 * rng.standard_normal((6000, 64))).astype(np.float16)
    x[5000:5100] = x[17]  # 100 exact copies of one image: more equals than the sketch re-ranks
    index = embedding.FeatureIndex(x)
    asked: list[int] = []
    real = index._from_sketch
    monkeypatch.setattr(index, "_from_sketch", lambda row, k: asked.append(row) or real(row, k))
    queries = [3, 99, 4321]
    fast = index.neighbours(queries, k=8)
    exact = index._scan(np.asarray(queries), 8)
    assert asked == queries and index._sketch is not None  # the sketch answered them
    np.testing.assert_array_equal(fast[0], exact[0])
    np.testing.assert_allclose(fast[1], exact[1], atol=1e-6)
    assert real(17, 8) is None  # the sketch cannot vouch among 100 copies: the full scan answers
    np.testing.assert_array_equal(index.neighbours([17], k=8)[0], index._scan(np.asarray([17]), 8)[0])
    assert set(index.neighbours([17], k=8)[0][0]) <= set(range(5000, 5100))


def test_pca_map_matches_an_svd_and_tsne_reports_progress() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 10)).astype(np.float32) * np.arange(1, 11)
    coords = embedding.pca_map(x)
    centred = x - x.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    expected = centred @ vt[:2].T
    np.testing.assert_allclose(np.abs(coords), np.abs(expected), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(np.abs(coords), np.abs(PCA(2).fit_transform(x)), rtol=1e-3, atol=1e-3)
    steps: list[tuple[int, int]] = []
    tsne = embedding.tsne_map(x, on_progress=lambda done, total: steps.append((done, total)))
    assert tsne.shape == (120, 2) and np.isfinite(tsne).all()
    assert steps == [(i, embedding.TSNE_STAGES) for i in range(1, embedding.TSNE_STAGES + 1)]
    with pytest.raises(InputError):
        embedding.tsne_map(x[:3])
    with pytest.raises(InputError):
        embedding.pca_map(np.full((3, 2), np.nan))


def test_tsne_separates_the_digits_by_class(digits_model: LoadedModel) -> None:
    labelled = digits_set("test")
    _, features = digits_features(digits_model, labelled)
    y = np.array(labelled.targets)
    coords = embedding.tsne_map(features)
    # most points' nearest neighbour on the map has their class
    nearest = NearestNeighbors(n_neighbors=2).fit(coords).kneighbors(coords)[1][:, 1]
    assert (y[nearest] == y).mean() > 0.9


# ---------------------------------------------------------------- two models
def test_agreement_table_and_disagreements_by_hand() -> None:
    y = np.array([0, 1, 2, 3, 4, 5])
    a = np.array([0, 1, 2, 0, 0, 5])
    b = np.array([0, 1, 0, 3, 1, 5])
    result = compare.agreement(y, a, b)
    assert (result.n, result.both_right, result.only_a, result.only_b, result.both_wrong) == (6, 3, 1, 1, 1)
    assert result.agree == pytest.approx(3 / 6)
    assert result.table().to_numpy().tolist() == [[3, 1], [1, 1]]
    ca = np.array([0.9, 0.9, 0.8, 0.6, 0.5, 0.9])
    cb = np.array([0.9, 0.9, 0.4, 0.7, 0.6, 0.9])
    frame = compare.disagreements(y, a, b, ca, cb)
    assert frame["row"].tolist() == [2, 3, 4] and frame["right"].tolist() == ["A", "B", "neither"]
    pairing = compare.pair_runs(["x", "y", "z"], ["z", "x", "w"])
    assert pairing.files == ("x", "z") and pairing.rows_a.tolist() == [0, 2] and pairing.rows_b.tolist() == [1, 0]
    with pytest.raises(InputError):
        compare.pair_runs(["x"], ["y"])
    assert (result.accuracy_a, result.accuracy_b) == (4 / 6, 4 / 6)


def test_two_real_runs_compared_by_file_name(digits_model: LoadedModel) -> None:
    from sklearn.metrics import accuracy_score

    run = evaluate(digits_model, digits_set("test"), num_workers=0)
    # the second run: the same images in reverse order, with the logits of a worse "model" (two classes swapped)
    order = torch.arange(run.n - 1, -1, -1)
    swapped = run.logits[order][:, [1, 0, *range(2, 10)]]
    other = EvalResult(tuple(run.files[i] for i in order.tolist()), run.targets[order], swapped, model="swapped")
    both = compare.compare_runs(run, other)
    y, a = run.targets.numpy(), run.logits.argmax(1).numpy()
    b = np.where(a == 0, 1, np.where(a == 1, 0, a))  # what the swapped logits predict, in run A's order
    assert both.agreement.n == run.n
    assert both.agreement.accuracy_a == pytest.approx(accuracy_score(y, a))
    assert both.agreement.accuracy_b == pytest.approx(accuracy_score(y, b))
    assert both.agreement.agree == pytest.approx(float((a == b).mean()))
    differ = both.disagreements
    assert sorted(differ["file"]) == sorted(run.files[i] for i in np.flatnonzero(a != b))
    assert set(differ["prediction_a"]) | set(differ["prediction_b"]) <= {0, 1}


# ---------------------------------------------------------------- weak slices
def test_image_properties_of_real_images(sample) -> None:
    camera = slices.image_properties(Image.open(sample("camera")))
    coffee = slices.image_properties(Image.open(sample("coffee")).convert("RGB"))
    assert camera["grayscale"] == 1.0 and coffee["grayscale"] == 0.0
    assert camera["size"] == 512 * 512 and coffee["aspect"] == pytest.approx(600 / 400)
    black = slices.image_properties(Image.new("RGB", (10, 20)))
    assert (black["brightness"], black["contrast"], black["aspect"]) == (0.0, 0.0, 0.5)
    half = Image.new("L", (64, 64))
    half.paste(255, (0, 0, 32, 64))
    assert slices.image_properties(half)["contrast"] == pytest.approx(127.5)


def test_weak_slices_put_the_worst_bucket_first() -> None:
    n = 80
    props = pd.DataFrame(
        {
            "brightness": np.arange(n, dtype=float),  # dark images are the wrong ones
            "contrast": np.full(n, 10.0),  # one value: no slice
            "size": np.full(n, 100.0),
            "aspect": np.where(np.arange(n) % 2, 1.0, 2.0),
            "grayscale": np.zeros(n),
        }
    )
    correct = np.arange(n) >= 20
    frame = slices.weak_slices(props, correct, buckets=4)
    assert frame.iloc[0]["property"] == "brightness" and frame.iloc[0]["accuracy"] == 0.0
    assert frame.iloc[0]["count"] == 20 and frame.iloc[0]["gap"] == pytest.approx(-0.75)
    assert set(frame["property"]) == {"brightness", "aspect"}
    assert frame["accuracy"].is_monotonic_increasing
    data = {}
    for name, image in (("a.png", Image.new("L", (8, 8), 200)), ("b.png", Image.new("RGB", (4, 2), (9, 0, 0)))):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        data[name] = buffer.getvalue()
    data["bad.png"] = b"not an image"
    table = slices.properties_frame(["a.png", "b.png", "bad.png"], data.__getitem__)
    assert table["brightness"][0] == 200 and table["grayscale"].tolist()[:2] == [1.0, 0.0]
    assert table["aspect"][1] == 2.0 and table.iloc[2].isna().all()


def test_results_file_and_records_carry_the_per_image_scores(digits_model: LoadedModel) -> None:
    result = evaluate(digits_model, digits_set("test"), num_workers=0)
    expected = scores.per_image_scores(result.logits, result.targets)
    frame = results_frame(result, DIGITS)
    for column in scores.SCORE_COLUMNS:  # the file's scores come from the float32 pass: within 1e-7 of float64's
        np.testing.assert_allclose(frame[column], expected[column], rtol=1e-6, atol=1e-7)
    back = read_results(results_bytes(result, fmt="parquet", labels=DIGITS), "r.parquet")
    again = scores.per_image_scores(back.logits, back.targets)
    np.testing.assert_allclose(again.to_numpy(), expected.to_numpy(), rtol=1e-6, atol=1e-9)
    records = records_table(result, DIGITS, temperature=2.0)
    at_two = scores.per_image_scores(result.logits, result.targets, temperature=2.0)
    np.testing.assert_allclose(records["margin"], at_two["margin"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(records["hardness"], at_two["hardness"])
    np.testing.assert_allclose(records["mistakenness"], at_two["mistakenness"])


def test_the_runner_keeps_features_equal_to_the_hook_and_results_files_keep_them(digits_model: LoadedModel) -> None:
    labelled = digits_set("test")
    result = evaluate(digits_model, labelled, num_workers=0, batch_size=100, features=True)
    logits, features = digits_features(digits_model, labelled)
    assert result.features is not None and result.features.dtype == torch.float16
    np.testing.assert_allclose(result.features.float().numpy(), features.astype(np.float32), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(result.logits.numpy(), logits, rtol=1e-5, atol=1e-5)
    assert evaluate(digits_model, labelled, num_workers=0).features is None
    assert "feature_0" not in results_frame(result, DIGITS).columns  # only when asked
    for fmt in ("csv", "parquet"):
        back = read_results(results_bytes(result, fmt=fmt, labels=DIGITS, features=True), f"r.{fmt}")
        assert back.features is not None
        torch.testing.assert_close(back.features, result.features)
    frame = results_frame(result, DIGITS, features=True)
    with pytest.raises(InputError):
        read_results(frame.drop(columns=["feature_3"]).to_csv(index=False).encode(), "r.csv")
