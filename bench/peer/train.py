"""Trains the peer's model as the exam specifies it: TF-IDF over 5,000 words and a logistic
regression, one scikit-learn pipeline pickled with joblib. Trained on the repo's fixed split
(model/data) and scored on its test half, so that the peer is the exam's reference model
(model/data/README.md: accuracy 0.3570 with scikit-learn 1.2). Prints one JSON line: what the
model is and its test accuracy.

    python3 train.py DATA.csv TRAIN_IDS.txt TEST_IDS.txt OUTPUT.joblib
"""

import csv
import json
import sys
from pathlib import Path

import joblib
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline

WORDS = 5000

data, train_ids, test_ids, output = map(Path, sys.argv[1:5])
with open(data, newline="", encoding="utf-8") as file:
    rows = {row["tweet_id"]: (row["content"], row["sentiment"]) for row in csv.DictReader(file)}


def split(ids_file):
    ids = ids_file.read_text().split()
    return [rows[i][0] for i in ids], [rows[i][1] for i in ids]


(train_texts, train_labels), (test_texts, test_labels) = split(train_ids), split(test_ids)
model = make_pipeline(TfidfVectorizer(max_features=WORDS), LogisticRegression(max_iter=1000))
model.fit(train_texts, train_labels)
joblib.dump(model, output)
print(
    json.dumps(
        {
            "model": f"TF-IDF over {WORDS:,} words + logistic regression (scikit-learn {sklearn.__version__})",
            "test_accuracy": accuracy_score(test_labels, model.predict(test_texts)),
        }
    )
)
