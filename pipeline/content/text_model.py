"""A learned scorer beside the rules: logistic regression over word stems of folded text.

Trained when the rules load, from the labelled texts kept with them (`rules/categorize/
development.jsonl`, written apart from the evaluation set), with fixed settings, so the same
files always give the same model: it is versioned with the rules. A stem is a folded word's
first `STEM_LETTERS` letters (Kazakh and Russian add endings; the folding has already undone
the spelling tricks), weighted by TF-IDF. Training uses scikit-learn; a prediction is a few
dictionary look-ups and one small matrix product, so it keeps up with the rules. Every
prediction names the stems that pushed hardest towards each label.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

STEM_LETTERS = 5
# Part of the rule-set version, so a verdict names the scorer's settings too.
SETTINGS = f"stems{STEM_LETTERS}-tfidf-logistic-C30-balanced"


def stems(folded: str) -> list[str]:
    return [word[:STEM_LETTERS] for word in folded.split()]


@dataclass(frozen=True)
class Prediction:
    probabilities: dict[str, float]  # label → probability, summing to 1
    drivers: dict[str, list[str]]  # label → the stems that favoured it most (likely labels)


class TextModel:
    def __init__(
        self,
        labels: list[str],
        vocabulary: dict[str, int],
        idf: np.ndarray,
        coefficients: np.ndarray,
        intercepts: np.ndarray,
    ) -> None:
        self.labels = labels
        self._vocabulary = vocabulary  # stem → column
        self._idf = idf
        self._coefficients = coefficients  # one row per label
        self._intercepts = intercepts

    @classmethod
    def train(cls, folded: Sequence[str], labels: Sequence[str]) -> TextModel:
        vectorizer = TfidfVectorizer(analyzer=stems, sublinear_tf=True, min_df=2)
        features = vectorizer.fit_transform(folded)
        # Balanced: the benign texts outnumber each category; C chosen by cross-validation.
        model = LogisticRegression(C=30.0, max_iter=3000, class_weight="balanced", random_state=0)
        model.fit(features, list(labels))
        return cls(
            [str(label) for label in model.classes_],
            {str(stem): int(column) for stem, column in vectorizer.vocabulary_.items()},
            vectorizer.idf_,
            model.coef_,
            model.intercept_,
        )

    def predict(self, folded: str, drivers: int = 5, explain_at: float = 0.1) -> Prediction:
        """Probabilities of every label; the stems that drove it for each label at least
        `explain_at` likely (the others are not named in a verdict)."""
        # The vectorizer's own weighting, by hand: (1 + log tf) x idf, L2-normalised.
        counts = Counter(stems(folded))
        found = [(self._vocabulary[s], s, n) for s, n in counts.items() if s in self._vocabulary]
        columns = np.array([column for column, _, _ in found], dtype=np.intp)
        values = np.array([1 + math.log(n) for _, _, n in found]) * self._idf[columns]
        norm = float(np.linalg.norm(values))
        if norm:
            values /= norm
        contributions = self._coefficients[:, columns] * values
        scores = contributions.sum(axis=1) + self._intercepts
        exp = np.exp(scores - scores.max())
        probabilities = exp / exp.sum()
        top: dict[str, list[str]] = {}
        for row, label in enumerate(self.labels):
            if probabilities[row] < explain_at:
                continue
            order = np.argsort(-contributions[row])[:drivers]
            top[label] = [found[i][1] for i in order if contributions[row, i] > 0]
        return Prediction(
            {label: float(p) for label, p in zip(self.labels, probabilities, strict=True)}, top
        )
