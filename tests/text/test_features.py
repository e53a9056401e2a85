"""The vectorised TF-IDF features equal scikit-learn's TfidfVectorizer on the same n-grams / tokens."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from anju.errors import NotFittedError
from anju.text.features import CharNgrams, TextFeatures, WordTfidf, char_codes
from anju.text.normalize import normalize


def _decode(code: int) -> str:
    code = int(code)
    if code < (1 << 21):
        return chr(code)
    return chr((code >> 21) - 1) + chr(code & ((1 << 21) - 1))


def _char_analyzer(doc: str) -> list[str]:
    out = [c for c in doc if c != " "]
    out += [a + b for a, b in itertools.pairwise(doc) if a != " " and b != " "]
    return out


@pytest.fixture(scope="module")
def texts(teddy_dir) -> list[str]:
    import pandas as pd

    df = pd.read_csv(teddy_dir / "full" / "附件2_rawtext_subset_A.csv", header=None, names=["label", "text"])
    return normalize(df["text"].head(400).tolist())


def test_char_codes_are_unigrams_and_bigrams():
    docs, codes = char_codes(["被盗 了", "ab"])
    grams = sorted((int(d), _decode(c)) for d, c in zip(docs, codes, strict=True))
    assert grams == sorted([(0, "被"), (0, "盗"), (0, "了"), (0, "被盗"), (1, "a"), (1, "b"), (1, "ab")])


def test_char_ngrams_equal_sklearn(texts):
    ref = TfidfVectorizer(analyzer=_char_analyzer, sublinear_tf=True, min_df=2).fit(texts)
    mine = CharNgrams(min_df=2, max_features=None).fit(texts)
    names = [_decode(c) for c in mine.vocabulary_]
    assert sorted(names) == sorted(ref.vocabulary_)
    order = [ref.vocabulary_[n] for n in names]
    a = ref.transform(texts[:150])[:, order].toarray()
    b = mine.transform(texts[:150]).toarray()
    assert np.allclose(a, b, atol=1e-12)


def test_word_tfidf_equals_sklearn(texts):
    feats = TextFeatures()
    toks = feats.tokens(texts)
    ref = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True, min_df=2).fit(toks)
    mine = WordTfidf(min_df=2).fit(toks)
    order = [ref.vocabulary_[w] for w in sorted(mine.vocabulary_, key=mine.vocabulary_.get)]
    assert np.allclose(ref.transform(toks)[:, order].toarray(), mine.transform(toks).toarray(), atol=1e-12)


def test_max_features_keeps_the_most_frequent(texts):
    full = CharNgrams(min_df=1, max_features=None).fit(texts)
    top = CharNgrams(min_df=1, max_features=100).fit(texts)
    assert len(top.vocabulary_) == 100 and set(top.vocabulary_) <= set(full.vocabulary_)


def test_text_features_pickle_round_trip(texts):
    f = TextFeatures(dictionary=[("测试新词组", None, "n")]).fit(texts[:200])
    g = pickle.loads(pickle.dumps(f))
    assert "_seg" not in g.__dict__
    a, b = f.transform(texts[200:260]), g.transform(texts[200:260])
    assert (a != b).nnz == 0
    assert g._segmenter().has_word("测试新词组")


def test_not_fitted():
    with pytest.raises(NotFittedError):
        TextFeatures().transform(["x"])
    with pytest.raises(NotFittedError):
        CharNgrams().transform(["x"])
