"""Hashed n-gram counts and TF-IDF, as scikit-learn computes them, without importing scikit-learn at scoring time.

Importing sklearn took 1.7 s and 100 MB of every `attune ask`; training still uses sklearn, and a test holds
these to its HashingVectorizer(alternate_sign=False, norm=None) and TfidfTransformer(sublinear_tf=True).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import mmh3
import numpy as np
from scipy.sparse import csr_matrix

_WHITE_SPACES = re.compile(r"\s\s+")
_INT32_MIN = -(2**31)


class HashingCounts:
    """Counts of word n-grams (`analyzer="word"`) or of character n-grams inside word boundaries
    (`"char_wb"`), lower-cased, hashed into `n_features` columns with MurmurHash3 (seed 0)."""

    def __init__(
        self,
        *,
        n_features: int,
        ngram_range: tuple[int, int] = (1, 1),
        analyzer: str = "word",
        token_pattern: str = r"(?u)\b\w\w+\b",
    ) -> None:
        if analyzer not in ("word", "char_wb"):
            raise ValueError(f"analyzer must be word or char_wb, not {analyzer!r}")
        self.n_features = n_features
        self.ngram_range = ngram_range
        self.analyzer = analyzer
        self._token = re.compile(token_pattern)

    def ngrams(self, text: str) -> list[str]:
        low, high = self.ngram_range
        text = text.lower()
        if self.analyzer == "char_wb":
            out = []
            for word in _WHITE_SPACES.sub(" ", text).split():
                padded = f" {word} "
                for n in range(low, high + 1):
                    offset = 0
                    out.append(padded[offset : offset + n])
                    while offset + n < len(padded):
                        offset += 1
                        out.append(padded[offset : offset + n])
                    if offset == 0:  # a word shorter than n is counted once
                        break
            return out
        tokens = self._token.findall(text)
        out = list(tokens) if low == 1 else []
        for n in range(max(low, 2), high + 1):
            out += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        return out

    def column(self, feature: str) -> int:
        h = mmh3.hash(feature.encode("utf-8"), 0, signed=True)
        if h == _INT32_MIN:  # abs() would overflow in sklearn's int32; it defines the column this way
            return (2**31 - 1 - (self.n_features - 1)) % self.n_features
        return abs(h) % self.n_features

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        indptr, indices = [0], []
        for text in texts:
            indices += [self.column(f) for f in self.ngrams(text)]
            indptr.append(len(indices))
        matrix = csr_matrix(
            (np.ones(len(indices)), np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
            shape=(len(texts), self.n_features),
        )
        matrix.sum_duplicates()
        return matrix


class Tfidf:
    """Sublinear term frequency (1 + log tf) times the stored IDF, each row scaled to unit length."""

    def __init__(self, idf: np.ndarray) -> None:
        self.idf_ = np.asarray(idf)

    def transform(self, counts: csr_matrix) -> csr_matrix:
        x = csr_matrix(counts, dtype=np.float64, copy=True)
        np.log(x.data, out=x.data)
        x.data += 1
        x.data *= self.idf_[x.indices]
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        x.data /= np.repeat(norms, np.diff(x.indptr))
        return x
