"""What BM25 indexes of a text: its stemmed tokens and their adjacent pairs, and each term's
stable 64-bit id.

The catalog stores every chunk's term ids when the chunk is written (ChunkTerms), so a replica
builds its BM25 matrix from integers rather than tokenising every chunk when it starts: at 200,000
chunks tokenising took most of a first start.
"""

from __future__ import annotations

import hashlib
from itertools import pairwise

import bm25s
import numpy as np
import Stemmer

_STEMMER = Stemmer.Stemmer("english")
TERM_ID = np.dtype("<u8")


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-word-free, stemmed tokens: the one tokenisation for corpus and queries."""
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False)


def index_terms(texts: list[str]) -> list[list[str]]:
    """The BM25 terms of each text: its tokens plus each adjacent pair ("total_place", "john_seddon").

    Pairs make BM25 prefer passages that keep a query's phrases together over passages that only
    share its words; on the eval sets they lift keyword MRR@10 most where questions name things.
    """
    return [tokens + pair_terms(tokens) for tokens in tokenize(texts)]


def pair_terms(tokens: list[str]) -> list[str]:
    """The BM25 terms of adjacent token pairs ("total_place")."""
    return [f"{a}_{b}" for a, b in pairwise(tokens)]


def term_ids(terms: list[str]) -> np.ndarray:
    """Each term's id: the first 8 bytes of its BLAKE2b digest, the same in every process and
    version (Python's hash() is salted). Among the few million terms of a million chunks, two share
    an id with odds of about one in a million; they would then share a BM25 column."""
    return np.frombuffer(b"".join(hashlib.blake2b(term.encode(), digest_size=8).digest() for term in terms), dtype=TERM_ID)


def text_term_ids(texts: list[str]) -> list[np.ndarray]:
    """The ids of each text's `index_terms`, in order (repeats kept: BM25 counts them)."""
    return [term_ids(terms) for terms in index_terms(texts)]


def pack_term_ids(ids: np.ndarray) -> bytes:
    return np.asarray(ids, dtype=TERM_ID).tobytes()


def unpack_term_ids(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=TERM_ID)
