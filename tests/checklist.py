"""Twenty obvious short texts, ten English and ten Chinese, written for this project (issue 15.1): a model from
the one-click sample path that gets more than one of them wrong looks broken to a newcomer."""

from __future__ import annotations

CHECKLIST: tuple[tuple[str, str], ...] = (
    ("I love it", "positive"),
    ("Absolutely fantastic, highly recommend", "positive"),
    ("Great quality and fast delivery", "positive"),
    ("The best film I have seen this year", "positive"),
    ("Friendly staff and a lovely room", "positive"),
    ("terrible quality, broke fast", "negative"),
    ("I hate it", "negative"),
    ("Complete waste of money", "negative"),
    ("The worst service ever", "negative"),
    ("Boring movie, I fell asleep", "negative"),
    ("非常好用，很满意", "positive"),
    ("质量很好，物超所值", "positive"),
    ("这部电影太精彩了", "positive"),
    ("服务热情，房间干净", "positive"),
    ("我很喜欢这个", "positive"),
    ("太差了，再也不买", "negative"),
    ("质量很差，用了一天就坏了", "negative"),
    ("服务态度恶劣", "negative"),
    ("非常失望，浪费钱", "negative"),
    ("难吃死了", "negative"),
)


def checklist_score(predictor) -> tuple[int, list[str]]:
    """How many checklist texts `predictor` labels right, and the texts it gets wrong."""
    texts = [text for text, _ in CHECKLIST]
    predicted = [prediction.label for prediction in predictor.predict(texts)]
    wrong = [text for (text, label), guess in zip(CHECKLIST, predicted) if guess != label]
    return len(CHECKLIST) - len(wrong), wrong
