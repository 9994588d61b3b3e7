"""The text pipeline in pure Python: the reference the Rust version must equal.

Written the way one writes it first, with ``unicodedata.normalize``,
``str.casefold`` and ``unicodedata.category``: the benchmark times the Rust
version against it, and the tests require both to give identical output. The
rules (see docs/text_pipeline.md) are:

normalise
    NFKC, then ``str.casefold`` (full case folding: "ß" -> "ss", "ﬁ" -> "fi",
    final sigma -> sigma), then remove invisible characters (controls that are not
    whitespace, and format characters except the joiners ZWJ/ZWNJ and emoji
    tag characters), then NFKC again (folding can produce text that is not
    NFKC). With ``strip_punctuation`` every punctuation character (category
    P*) becomes a space. Finally runs of whitespace (``str.isspace``) become
    one space, with none at either end.

tokenise
    The normalised text, split at spaces. Each Han ideograph and each
    punctuation character is a token of its own; a run of kana, a run of
    symbols (emoji included) and a run of other characters (letters, digits,
    Hangul, ...) are one token each. Combining marks, ZWJ/ZWNJ and tag
    characters stay with the token before them.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

PAD_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"
PAD_ID = 0
UNK_ID = 1

# Han ideographs: 々〆〇, CJK Unified Ideographs and Extension A, CJK
# Compatibility Ideographs, and all of planes 2 and 3 (Extensions B to J).
HAN_RANGES = (
    (0x3005, 0x3007),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x3FFFF),
)
# Kana: Hiragana, Katakana, Katakana Phonetic Extensions, and the kana blocks
# of plane 1 (Kana Extended-B to Small Kana Extension).
KANA_RANGES = (
    (0x3040, 0x309F),
    (0x30A0, 0x30FF),
    (0x31F0, 0x31FF),
    (0x1AFF0, 0x1B16F),
)
ZWNJ, ZWJ = "\u200c", "\u200d"

SPACE, EXTEND, SINGLE, KANA, SYMBOL, WORD = range(6)


def _is_tag(ch: str) -> bool:
    return "\U000e0020" <= ch <= "\U000e007f"


def _is_invisible(ch: str) -> bool:
    category = unicodedata.category(ch)
    if category == "Cc":
        return not ch.isspace()
    return category == "Cf" and ch not in (ZWNJ, ZWJ) and not _is_tag(ch)


def normalize(text: str, strip_punctuation: bool = False) -> str:
    """NFKC, case fold, drop invisible characters, NFKC, collapse whitespace."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(ch for ch in text if not _is_invisible(ch))
    text = unicodedata.normalize("NFKC", text)
    if strip_punctuation:
        text = "".join(" " if unicodedata.category(ch)[0] == "P" else ch for ch in text)
    return " ".join(text.split())


def _char_class(ch: str) -> int:
    if ch.isspace():
        return SPACE
    category = unicodedata.category(ch)
    if category[0] == "P":
        return SINGLE
    if category[0] == "M" or ch in (ZWNJ, ZWJ) or _is_tag(ch):
        return EXTEND
    code = ord(ch)
    if any(lo <= code <= hi for lo, hi in HAN_RANGES):
        return SINGLE
    if any(lo <= code <= hi for lo, hi in KANA_RANGES):
        return KANA
    if category[0] == "S":
        return SYMBOL
    return WORD


def tokenize(text: str, strip_punctuation: bool = False) -> list[str]:
    """Normalise `text`, then split it into tokens."""
    tokens: list[str] = []
    current = ""
    current_class = SPACE  # no token open
    for ch in normalize(text, strip_punctuation):
        char_class = _char_class(ch)
        if char_class == EXTEND and current:
            current += ch
            continue
        if char_class == EXTEND:
            char_class = WORD
        if current and (char_class != current_class or char_class == SINGLE):
            tokens.append(current)
            current = ""
        if char_class == SPACE:
            continue
        current += ch
        current_class = char_class
    if current:
        tokens.append(current)
    return tokens


class Vocabulary:
    """Token <-> id mapping: ``<pad>`` = 0, ``<unk>`` = 1, then corpus tokens by
    count (most frequent first), ties by token (code point order)."""

    def __init__(self, tokens: Sequence[str], strip_punctuation: bool = False) -> None:
        if list(tokens[:2]) != [PAD_TOKEN, UNK_TOKEN]:
            raise ValueError(f"tokens must start with {PAD_TOKEN!r}, {UNK_TOKEN!r}")
        self.tokens = list(tokens)
        self.strip_punctuation = strip_punctuation
        self.ids = {token: i for i, token in enumerate(self.tokens)}
        if len(self.ids) != len(self.tokens):
            raise ValueError("tokens must not repeat")

    @classmethod
    def from_corpus(
        cls,
        texts: Iterable[str],
        min_count: int = 1,
        max_size: int | None = None,
        *,
        strip_punctuation: bool = False,
    ) -> Vocabulary:
        counts = Counter(token for text in texts for token in tokenize(text, strip_punctuation))
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        tokens = [PAD_TOKEN, UNK_TOKEN] + [t for t, n in ranked if n >= min_count]
        if max_size is not None:
            tokens = tokens[:max_size]
        return cls(tokens, strip_punctuation)

    def __len__(self) -> int:
        return len(self.tokens)

    def token_to_id(self, token: str) -> int:
        return self.ids.get(token, UNK_ID)

    def id_to_token(self, token_id: int) -> str:
        return self.tokens[token_id]

    def encode(self, text: str) -> list[int]:
        return [self.token_to_id(t) for t in tokenize(text, self.strip_punctuation)]

    def encode_batch(
        self, texts: Sequence[str], max_len: int | None = None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Ids padded with ``<pad>`` to the longest text (or to `max_len`,
        truncating longer ones), and each text's length."""
        if max_len is not None and max_len <= 0:
            raise ValueError("max_len must be positive")
        rows = [self.encode(text)[:max_len] for text in texts]
        width = max_len if max_len is not None else max(map(len, rows), default=0)
        ids = np.full((len(rows), width), PAD_ID, dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
        lengths = np.array([len(row) for row in rows], dtype=np.int64)
        return ids, lengths
