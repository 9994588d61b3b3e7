//! An NLP pre-processing pipeline in Rust, with a pure-Python twin, so that
//! the speed-up of moving it from Python to Rust can be measured.
//!
//! Three steps, each defined so that the pure-Python reference
//! (`python/<package>/text_pipeline_reference.py`) gives the same output, bit
//! for bit:
//!
//! - [`normalize`]: NFKC, full case folding (what Python's `str.casefold`
//!   does, not `to_lowercase`: "ß" -> "ss", "ﬁ" -> "fi", "ς" -> "σ"), removal of
//!   invisible characters, NFKC again, optionally punctuation to spaces, and
//!   whitespace collapsed to single spaces.
//! - [`tokenize`]: split the normalised text. Each Han ideograph and each
//!   punctuation character is a token; runs of kana, of symbols and of other
//!   characters are tokens; combining marks stay with the token before them.
//! - [`Vocabulary`]: token <-> id, built from a corpus, and
//!   [`Vocabulary::encode_batch`], which encodes many texts on every core
//!   (rayon) into a padded id matrix.

use std::borrow::Cow;
use std::collections::HashMap;
use std::iter;

use caseless::Caseless;
use ndarray::{Array1, Array2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};
use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};

use crate::{Error, Result, alloc, pool};

/// The padding token; always id [`PAD_ID`].
pub const PAD_TOKEN: &str = "<pad>";
/// The token that stands for every token not in the vocabulary; id [`UNK_ID`].
pub const UNK_TOKEN: &str = "<unk>";
pub const PAD_ID: u32 = 0;
pub const UNK_ID: u32 = 1;

/// Han ideographs: 々〆〇, CJK Unified Ideographs and Extension A, CJK
/// Compatibility Ideographs, and all of planes 2 and 3 (Extensions B to J).
const HAN_RANGES: [(char, char); 5] = [
    ('\u{3005}', '\u{3007}'),
    ('\u{3400}', '\u{4DBF}'),
    ('\u{4E00}', '\u{9FFF}'),
    ('\u{F900}', '\u{FAFF}'),
    ('\u{20000}', '\u{3FFFF}'),
];

/// Hiragana, Katakana, Katakana Phonetic Extensions and the kana blocks of
/// plane 1 (Kana Extended-B to Small Kana Extension).
const KANA_RANGES: [(char, char); 4] = [
    ('\u{3040}', '\u{309F}'),
    ('\u{30A0}', '\u{30FF}'),
    ('\u{31F0}', '\u{31FF}'),
    ('\u{1AFF0}', '\u{1B16F}'),
];

const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';

fn in_ranges(c: char, ranges: &[(char, char)]) -> bool {
    ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
}

/// Python's `str.isspace`: Unicode White_Space plus the four information
/// separators U+001C..U+001F (bidirectional class B or S), which Rust's
/// `char::is_whitespace` does not include.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1C}'..='\u{1F}').contains(&c)
}

/// Emoji tag characters (subdivision flags such as England's).
fn is_tag(c: char) -> bool {
    ('\u{E0020}'..='\u{E007F}').contains(&c)
}

/// Controls that are not whitespace, and format characters other than the
/// joiners and tags (soft hyphen, zero-width space, BOM, bidi marks, ...).
fn is_invisible(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control() && !is_space(c);
    }
    match c.general_category() {
        GeneralCategory::Control => !is_space(c),
        GeneralCategory::Format => !matches!(c, ZWNJ | ZWJ) && !is_tag(c),
        _ => false,
    }
}

fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        // ASCII punctuation minus the nine ASCII symbols (categories Sm, Sc, Sk).
        return c.is_ascii_punctuation() && !"$+<=>^`|~".contains(c);
    }
    c.general_category_group() == GeneralCategoryGroup::Punctuation
}

/// Unicode NFKC, full case folding, invisible characters removed, NFKC again;
/// punctuation becomes a space if `strip_punctuation`; runs of whitespace
/// become one space, and there is none at either end.
///
/// The second NFKC is needed because folding can produce text that is not
/// NFKC, and removing an invisible character can put a base letter next to
/// its combining mark. The result equals the Python reference's `normalize`
/// for every character that Python's `unicodedata` knows with the same
/// properties (see docs/text_pipeline.md on Unicode versions).
pub fn normalize(text: &str, strip_punctuation: bool) -> String {
    if text.is_ascii() {
        // ASCII is already NFKC and folds to ASCII lowercase.
        let chars = text.chars().filter(|&c| !is_invisible(c));
        collapse(
            chars.map(|c| c.to_ascii_lowercase()),
            text.len(),
            strip_punctuation,
        )
    } else {
        collapse(fold(text).chars(), text.len(), strip_punctuation)
    }
}

/// `text` in NFKC, borrowed if it already is (as most text is).
///
/// NFKC(a + b) = NFKC(a) + NFKC(b) when b starts with an inert character, so
/// the text is cut before each one; stretches that pass the quick check (the
/// one Python's `unicodedata.normalize` makes too) are copied as they are,
/// and only the others go through the slow normaliser.
fn nfkc(text: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None; // allocated at the first change
    let mut start = 0; // where the current stretch starts
    let mut plain = true; // whether it is all inert
    let flush = |out: &mut Option<String>, stretch: &str, plain: bool, start: usize| {
        if !plain && is_nfkc_quick(stretch.chars()) != IsNormalized::Yes {
            let out = out.get_or_insert_with(|| {
                let mut out = String::with_capacity(text.len() + 8);
                out.push_str(&text[..start]);
                out
            });
            out.extend(stretch.nfkc());
        } else if let Some(out) = out {
            out.push_str(stretch);
        }
    };
    for (i, c) in text.char_indices() {
        if !is_nfkc_inert(c) {
            plain = false;
        } else if !plain {
            flush(&mut out, &text[start..i], plain, start);
            (start, plain) = (i, true);
        }
    }
    flush(&mut out, &text[start..], plain, start);
    out.map_or(Cow::Borrowed(text), Cow::Owned)
}

/// Characters that NFKC leaves alone and that never combine with the
/// character before them (NFKC_QC = Yes, combining class 0, not the second
/// half of a composition): ASCII and the main CJK ideograph blocks.
fn is_nfkc_inert(c: char) -> bool {
    c.is_ascii() || ('\u{3400}'..='\u{4DBF}').contains(&c) || ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// NFKC, full case folding, invisible characters removed, NFKC again.
fn fold(text: &str) -> String {
    let text = nfkc(text);
    let mut folded = String::with_capacity(text.len());
    // Folding and removing characters can leave text that is not NFKC:
    // "T" + U+0308 has no composed form, "t" + U+0308 has (U+1E97). If the
    // first pass changed nothing, though, the text holds no character that
    // combines with the one before it (they all fail the quick check), so
    // lowercasing ASCII and copying Han cannot make it un-normalised.
    let mut recheck = matches!(text, Cow::Owned(_));
    for c in text.chars() {
        if c.is_ascii() {
            if is_invisible(c) {
                recheck = true;
            } else {
                folded.push(c.to_ascii_lowercase());
            }
        } else if in_ranges(c, &HAN_RANGES) {
            folded.push(c); // caseless and visible
        } else {
            let before = folded.len();
            folded.extend(
                iter::once(c)
                    .default_case_fold()
                    .filter(|&c| !is_invisible(c)),
            );
            recheck |= folded[before..] != *c.encode_utf8(&mut [0; 4]);
        }
    }
    if !recheck {
        return folded;
    }
    match nfkc(&folded) {
        Cow::Borrowed(_) => folded,
        Cow::Owned(normalized) => normalized,
    }
}

/// Whitespace (and punctuation, if `strip_punctuation`) to single spaces,
/// none at either end.
fn collapse(chars: impl Iterator<Item = char>, capacity: usize, strip_punctuation: bool) -> String {
    let mut out = String::with_capacity(capacity);
    let mut space = false;
    for c in chars {
        if is_space(c) || (strip_punctuation && is_punctuation(c)) {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Space,
    /// Combining marks, ZWJ/ZWNJ, tags: part of the token before them.
    Extend,
    /// Punctuation, Han: one character per token.
    Single,
    Kana,
    Symbol,
    Word,
}

fn classify(c: char) -> Class {
    // Fast paths first, for the common letters; the order of the general
    // rules below matters (kana blocks hold punctuation and marks).
    if c.is_ascii_alphanumeric() {
        return Class::Word;
    }
    if in_ranges(c, &HAN_RANGES) {
        return Class::Single;
    }
    if is_space(c) {
        return Class::Space;
    }
    if is_punctuation(c) {
        return Class::Single;
    }
    let group = c.general_category_group();
    if group == GeneralCategoryGroup::Mark || matches!(c, ZWNJ | ZWJ) || is_tag(c) {
        Class::Extend
    } else if in_ranges(c, &KANA_RANGES) {
        Class::Kana
    } else if group == GeneralCategoryGroup::Symbol {
        Class::Symbol
    } else {
        Class::Word
    }
}

/// Call `emit` with each token of an already normalised text, in order.
fn split_normalized<'a>(text: &'a str, mut emit: impl FnMut(&'a str)) {
    // The open token: where it starts and its class.
    let mut open: Option<(usize, Class)> = None;
    for (i, c) in text.char_indices() {
        let mut class = classify(c);
        if class == Class::Extend {
            if open.is_some() {
                continue;
            }
            class = Class::Word; // a mark with nothing before it starts a word
        }
        if let Some((start, open_class)) = open {
            if class == open_class && class != Class::Single {
                continue;
            }
            emit(&text[start..i]);
            open = None;
        }
        if class != Class::Space {
            open = Some((i, class));
        }
    }
    if let Some((start, _)) = open {
        emit(&text[start..]);
    }
}

/// [`normalize`] `text`, then split it into tokens.
pub fn tokenize(text: &str, strip_punctuation: bool) -> Vec<String> {
    let normalized = normalize(text, strip_punctuation);
    let mut tokens = Vec::new();
    split_normalized(&normalized, |token| tokens.push(token.to_owned()));
    tokens
}

/// A padded batch of token ids, as [`Vocabulary::encode_batch`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// `(n_texts, width)`, row `i` holds text `i`'s ids then [`PAD_ID`]s.
    pub ids: Array2<i64>,
    /// Number of real (non-padding) ids in each row.
    pub lengths: Array1<i64>,
}

/// The on-disk form of a vocabulary (`to_json` / `from_json`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabularyFile {
    tokens: Vec<String>,
    #[serde(default)]
    strip_punctuation: bool,
}

/// Token <-> id mapping. Id 0 is [`PAD_TOKEN`], id 1 is [`UNK_TOKEN`]; the
/// tokens also remember how texts are tokenised (`strip_punctuation`), so
/// encoding always matches how the vocabulary was built.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    tokens: Vec<String>,
    ids: HashMap<String, u32>,
    strip_punctuation: bool,
}

impl PartialEq for Vocabulary {
    fn eq(&self, other: &Self) -> bool {
        self.tokens == other.tokens && self.strip_punctuation == other.strip_punctuation
    }
}

impl Eq for Vocabulary {}

impl Vocabulary {
    /// A vocabulary with these tokens in id order. The first two must be
    /// [`PAD_TOKEN`] and [`UNK_TOKEN`], and no token may repeat.
    pub fn new(tokens: Vec<String>, strip_punctuation: bool) -> Result<Self> {
        if tokens.len() < 2 || tokens[0] != PAD_TOKEN || tokens[1] != UNK_TOKEN {
            return Err(Error::Invalid(format!(
                "tokens must start with {PAD_TOKEN:?}, {UNK_TOKEN:?} (ids {PAD_ID} and {UNK_ID})"
            )));
        }
        if tokens.len() > u32::MAX as usize {
            return Err(Error::Invalid(format!(
                "a vocabulary holds at most {} tokens",
                u32::MAX
            )));
        }
        let mut ids = HashMap::with_capacity(tokens.len());
        for (id, token) in tokens.iter().enumerate() {
            if ids.insert(token.clone(), id as u32).is_some() {
                return Err(Error::Invalid(format!(
                    "token {token:?} appears more than once (again at id {id})"
                )));
            }
        }
        Ok(Self {
            tokens,
            ids,
            strip_punctuation,
        })
    }

    /// Count the tokens of every text (on all cores) and keep those seen at
    /// least `min_count` times, most frequent first, ties in code point order.
    /// `max_size` caps the total size, the two special tokens included.
    pub fn from_corpus<S: AsRef<str> + Sync>(
        texts: &[S],
        min_count: usize,
        max_size: Option<usize>,
        strip_punctuation: bool,
    ) -> Result<Self> {
        if min_count == 0 {
            return Err(Error::Invalid("min_count must be at least 1, got 0".into()));
        }
        if let Some(max_size) = max_size.filter(|&n| n < 2) {
            return Err(Error::Invalid(format!(
                "max_size must be at least 2 (room for {PAD_TOKEN} and {UNK_TOKEN}), got {max_size}"
            )));
        }
        // Normalising and counting run on the crate's pool (see `pool`).
        let tokens = pool::install(|| {
            let normalized: Vec<String> = texts
                .par_iter()
                .map(|text| normalize(text.as_ref(), strip_punctuation))
                .collect();
            let counts = normalized
                .par_iter()
                .fold(HashMap::<&str, usize>::new, |mut counts, text| {
                    split_normalized(text, |token| *counts.entry(token).or_default() += 1);
                    counts
                })
                .reduce(HashMap::new, |mut a, mut b| {
                    if a.len() < b.len() {
                        std::mem::swap(&mut a, &mut b);
                    }
                    for (token, n) in b {
                        *a.entry(token).or_default() += n;
                    }
                    a
                });
            let mut ranked: Vec<(&str, usize)> = counts
                .into_iter()
                .filter(|&(_, n)| n >= min_count)
                .collect();
            // Count descending, then token ascending: `str` order is code point
            // order, the same as Python's.
            ranked.par_sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            let keep = max_size.map_or(usize::MAX, |n| n - 2);
            [PAD_TOKEN, UNK_TOKEN]
                .into_iter()
                .chain(ranked.into_iter().take(keep).map(|(token, _)| token))
                .map(str::to_owned)
                .collect::<Vec<String>>()
        })?;
        Self::new(tokens, strip_punctuation)
    }

    /// Number of tokens, the two special tokens included.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Never true: a vocabulary always holds the special tokens.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The tokens in id order.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    pub fn strip_punctuation(&self) -> bool {
        self.strip_punctuation
    }

    /// The id of `token`, or `None` if it is not in the vocabulary.
    pub fn get(&self, token: &str) -> Option<u32> {
        self.ids.get(token).copied()
    }

    /// The id of `token`, or [`UNK_ID`] if it is not in the vocabulary.
    pub fn token_to_id(&self, token: &str) -> u32 {
        self.get(token).unwrap_or(UNK_ID)
    }

    /// The token with id `id`, or `None` if `id >= len()`.
    pub fn id_to_token(&self, id: usize) -> Option<&str> {
        self.tokens.get(id).map(String::as_str)
    }

    /// Normalise, tokenise and look up one text.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let normalized = normalize(text, self.strip_punctuation);
        let mut ids = Vec::new();
        split_normalized(&normalized, |token| ids.push(self.token_to_id(token)));
        ids
    }

    /// Encode every text (on all cores) into a `(n_texts, width)` matrix
    /// padded with [`PAD_ID`]. `width` is the longest text's length, or
    /// `max_len` if given: then longer texts keep their first `max_len` ids.
    pub fn encode_batch<S: AsRef<str> + Sync>(
        &self,
        texts: &[S],
        max_len: Option<usize>,
    ) -> Result<Encoded> {
        if max_len == Some(0) {
            return Err(Error::Invalid("max_len must be at least 1, got 0".into()));
        }
        let rows: Vec<Vec<u32>> = pool::install(|| {
            texts
                .par_iter()
                .map(|text| {
                    let mut ids = self.encode(text.as_ref());
                    if let Some(max_len) = max_len {
                        ids.truncate(max_len);
                    }
                    ids
                })
                .collect()
        })?;
        let width = max_len.unwrap_or_else(|| rows.iter().map(Vec::len).max().unwrap_or(0));
        // Even with no rows, a row of `width` ids must be addressable: NumPy
        // would be handed strides of `width * 8` bytes.
        if width.saturating_mul(size_of::<i64>()) > isize::MAX as usize {
            return Err(Error::Invalid(format!(
                "max_len {width} is too large: a row of that many ids cannot exist"
            )));
        }
        let size = rows.len().saturating_mul(width);
        let mut flat = alloc::try_with_capacity(size, "padded ids")?;
        for row in &rows {
            flat.extend(row.iter().map(|&id| i64::from(id)));
            flat.resize(flat.len() + width - row.len(), i64::from(PAD_ID));
        }
        let ids = Array2::from_shape_vec((rows.len(), width), flat)
            .expect("rows x width ids were written");
        let lengths = rows.iter().map(|row| row.len() as i64).collect();
        Ok(Encoded { ids, lengths })
    }

    /// `{"tokens": [...], "strip_punctuation": false}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&VocabularyFile {
            tokens: self.tokens.clone(),
            strip_punctuation: self.strip_punctuation,
        })
        .expect("a vocabulary always serialises")
    }

    /// Read what [`Vocabulary::to_json`] wrote; checked like [`Vocabulary::new`].
    pub fn from_json(json: &str) -> Result<Self> {
        let file: VocabularyFile = serde_json::from_str(json)
            .map_err(|err| Error::Invalid(format!("invalid vocabulary JSON: {err}")))?;
        Self::new(file.tokens, file.strip_punctuation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        tokenize(text, false)
    }

    #[test]
    fn normalize_folds_like_python_casefold() {
        let cases = [
            ("Straße", "strasse"),
            ("ﬁne", "fine"),
            ("ΣΑΣ ς", "σασ σ"),
            ("İ", "i\u{307}"),
            ("ＡＢＣ１２３", "abc123"),
            ("e\u{301}", "é"),
            ("T\u{308}", "\u{1E97}"),
            ("A\u{AD}\u{301}", "á"),
            ("\u{1100}\u{1161}", "가"),
            ("  Hello\t\n World  ", "hello world"),
            ("\u{FEFF}soft\u{AD}ware\u{200B}!", "software!"),
            ("a\u{0}b\u{1F}c", "ab c"),
            ("", ""),
            (" \u{3000}\u{85} ", ""),
        ];
        for (text, expected) in cases {
            assert_eq!(normalize(text, false), expected, "{text:?}");
        }
        assert_eq!(normalize("Hello, world! (ok)", true), "hello world ok");
        assert_eq!(normalize("“你好”，世界。", true), "你好 世界");
    }

    #[test]
    fn fast_paths_equal_the_plain_definition() {
        // The definition, with no quick checks and no ASCII or Han shortcuts.
        let plain = |text: &str, strip: bool| {
            let chars = text
                .nfkc()
                .default_case_fold()
                .filter(|&c| !is_invisible(c))
                .nfkc();
            collapse(chars, 0, strip)
        };
        let ranges = [0..0x3400, 0x4E00..0x4F00, 0xF900..0xFB00, 0xFE00..0x10000];
        for c in ranges.into_iter().flatten().filter_map(char::from_u32) {
            for text in [
                format!("A{c}b {c}"),
                format!("é{c}\u{301}"),
                format!("e{c}\u{301}字\u{301}{c}a"),
            ] {
                for strip in [false, true] {
                    assert_eq!(normalize(&text, strip), plain(&text, strip), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn tokenize_splits_han_kana_symbols_and_punctuation() {
        assert_eq!(tokens("Hello, World!"), ["hello", ",", "world", "!"]);
        assert_eq!(tokenize("Hello, World!", true), ["hello", "world"]);
        assert_eq!(tokens("我爱NLP。"), ["我", "爱", "nlp", "。"]);
        assert_eq!(
            tokens("東京タワーに行きます"),
            ["東", "京", "タワーに", "行", "きます"]
        );
        assert_eq!(
            tokens("👨\u{200D}👩\u{200D}👧 ok👍🏽"),
            ["👨\u{200D}👩\u{200D}👧", "ok", "👍🏽"]
        );
        assert_eq!(tokens("I❤\u{FE0F}you"), ["i", "❤\u{FE0F}", "you"]);
        assert_eq!(tokens("\u{301}a !\u{301}"), ["\u{301}a", "!\u{301}"]);
        assert_eq!(tokens("don't"), ["don", "'", "t"]);
        assert!(tokens("").is_empty());
        assert!(tokens(" \t ").is_empty());
    }

    #[test]
    fn vocabulary_orders_by_count_then_token() {
        let corpus = ["b a c", "a b", "a d", "Z"];
        let vocab = Vocabulary::from_corpus(&corpus, 1, None, false).unwrap();
        assert_eq!(
            vocab.tokens(),
            [PAD_TOKEN, UNK_TOKEN, "a", "b", "c", "d", "z"]
        );
        let vocab = Vocabulary::from_corpus(&corpus, 2, None, false).unwrap();
        assert_eq!(vocab.tokens(), [PAD_TOKEN, UNK_TOKEN, "a", "b"]);
        let vocab = Vocabulary::from_corpus(&corpus, 1, Some(3), false).unwrap();
        assert_eq!(vocab.tokens(), [PAD_TOKEN, UNK_TOKEN, "a"]);
        assert_eq!(vocab.token_to_id("a"), 2);
        assert_eq!(vocab.token_to_id("zzz"), UNK_ID);
        assert_eq!(vocab.id_to_token(0), Some(PAD_TOKEN));
        assert_eq!(vocab.id_to_token(3), None);
        let empty: [&str; 0] = [];
        assert_eq!(
            Vocabulary::from_corpus(&empty, 1, None, false)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn vocabulary_rejects_bad_arguments() {
        let corpus = ["a"];
        for result in [
            Vocabulary::from_corpus(&corpus, 0, None, false),
            Vocabulary::from_corpus(&corpus, 1, Some(1), false),
            Vocabulary::new(vec!["a".into()], false),
            Vocabulary::new(vec![UNK_TOKEN.into(), PAD_TOKEN.into()], false),
            Vocabulary::new(
                vec![PAD_TOKEN.into(), UNK_TOKEN.into(), "x".into(), "x".into()],
                false,
            ),
            Vocabulary::from_json("{\"tokens\": [1]}"),
            Vocabulary::from_json("{\"tokens\": [\"<pad>\", \"<unk>\"], \"extra\": 1}"),
        ] {
            assert!(matches!(result, Err(Error::Invalid(_))));
        }
    }

    #[test]
    fn encode_batch_pads_truncates_and_matches_encode() {
        let vocab = Vocabulary::from_corpus(&["a b c", "a b", "a"], 1, None, false).unwrap();
        let texts = ["A B C D", "", "b", "c a"];
        let batch = vocab.encode_batch(&texts, None).unwrap();
        assert_eq!(batch.ids.shape(), [4, 4]);
        assert_eq!(batch.lengths.to_vec(), [4, 0, 1, 2]);
        for (row, text) in batch.ids.rows().into_iter().zip(texts) {
            let ids = vocab.encode(text);
            assert_eq!(
                row.iter().take(ids.len()).copied().collect::<Vec<_>>(),
                ids.iter().map(|&i| i64::from(i)).collect::<Vec<_>>()
            );
            assert!(row.iter().skip(ids.len()).all(|&i| i == i64::from(PAD_ID)));
        }
        assert_eq!(batch.ids.row(0).to_vec(), [2, 3, 4, UNK_ID as i64]);
        let short = vocab.encode_batch(&texts, Some(2)).unwrap();
        assert_eq!(short.ids.shape(), [4, 2]);
        assert_eq!(short.lengths.to_vec(), [2, 0, 1, 2]);
        let wide = vocab.encode_batch(&texts, Some(6)).unwrap();
        assert_eq!(wide.ids.shape(), [4, 6]);
        assert_eq!(wide.ids.row(3).to_vec(), [4, 2, 0, 0, 0, 0]);
        assert!(matches!(
            vocab.encode_batch(&texts, Some(usize::MAX / 2)),
            Err(Error::Invalid(_))
        ));
        let none: [&str; 0] = [];
        assert_eq!(vocab.encode_batch(&none, None).unwrap().ids.shape(), [0, 0]);
        assert!(matches!(
            vocab.encode_batch(&none, Some(1 << 62)),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            vocab.encode_batch(&texts, Some(0)),
            Err(Error::Invalid(_))
        ));
    }

    #[test]
    fn json_round_trips() {
        let vocab = Vocabulary::from_corpus(&["x, y!", "ß"], 1, None, true).unwrap();
        let back = Vocabulary::from_json(&vocab.to_json()).unwrap();
        assert_eq!(back, vocab);
        assert!(back.strip_punctuation());
    }

    mod properties {
        use std::collections::BTreeSet;

        use proptest::collection::{btree_set, vec};
        use proptest::prelude::*;
        use proptest::sample::select;

        use super::*;

        /// A small alphabet with each kind of character the pipeline treats
        /// differently: ASCII and other letters (with the case-folding
        /// specials ß, İ, final ς), digits, whitespace (plain spaces twice as
        /// likely), punctuation, symbols, Han, kana (ﾀ is half-width),
        /// combining marks, joiners, invisible and compatibility characters
        /// (fullwidth Ａ, the ﬁ ligature), and emoji with a skin tone.
        const ALPHABET: &str = concat!(
            "abZßİΣς7\u{FF21}\u{FB01}",
            "  \t\n\u{3000}\u{85}\u{1F}",
            ",.!'\"\\。“$+",
            "中文字かカーﾀ",
            "\u{301}\u{308}\u{200D}\u{FE0F}\u{AD}\u{200B}\u{0}",
            "😀👍\u{1F3FD}❤",
        );

        fn alphabet() -> impl Strategy<Value = char> {
            select(ALPHABET.chars().collect::<Vec<char>>())
        }

        fn text() -> impl Strategy<Value = String> {
            vec(alphabet(), 0..24).prop_map(|chars| chars.into_iter().collect())
        }

        fn has_space_problem(normalized: &str) -> bool {
            normalized.starts_with(' ') || normalized.ends_with(' ') || normalized.contains("  ")
        }

        proptest! {
            #[test]
            fn normalize_leaves_single_spaces_between_words(
                text in text(),
                strip in any::<bool>(),
            ) {
                let normalized = normalize(&text, strip);
                prop_assert!(!has_space_problem(&normalized), "{:?} -> {:?}", text, normalized);
                // All whitespace became plain spaces, punctuation too if stripped.
                prop_assert!(
                    normalized.chars().all(|c| c == ' ' || !is_space(c)),
                    "{:?} -> {:?}", text, normalized
                );
                if strip {
                    prop_assert!(
                        !normalized.chars().any(is_punctuation),
                        "{:?} -> {:?}", text, normalized
                    );
                }
                prop_assert!(!normalized.chars().any(is_invisible), "{:?} -> {:?}", text, normalized);
            }

            #[test]
            fn encode_batch_rows_are_encode_truncated_and_padded(
                corpus in vec(text(), 0..8),
                texts in vec(text(), 0..12),
                min_count in 1usize..3,
                strip in any::<bool>(),
                max_len in proptest::option::of(1usize..12),
            ) {
                let vocab = Vocabulary::from_corpus(&corpus, min_count, None, strip).unwrap();
                let batch = vocab.encode_batch(&texts, max_len).unwrap();
                let encoded: Vec<Vec<u32>> = texts.iter().map(|t| vocab.encode(t)).collect();
                let longest = encoded.iter().map(Vec::len).max().unwrap_or(0);
                let width = max_len.unwrap_or(longest);
                prop_assert_eq!(batch.ids.shape(), &[texts.len(), width]);
                prop_assert_eq!(batch.lengths.len(), texts.len());
                for (i, ids) in encoded.iter().enumerate() {
                    let kept = ids.len().min(width);
                    let expected: Vec<i64> = ids[..kept]
                        .iter()
                        .map(|&id| i64::from(id))
                        .chain(iter::repeat_n(i64::from(PAD_ID), width - kept))
                        .collect();
                    prop_assert_eq!(batch.ids.row(i).to_vec(), expected, "text {:?}", &texts[i]);
                    prop_assert_eq!(batch.lengths[i], kept as i64);
                }
            }

            #[test]
            fn a_vocabulary_round_trips_through_json(
                tokens in btree_set(
                    vec(alphabet(), 1..6).prop_map(|c| c.into_iter().collect::<String>()),
                    0..20,
                ),
                strip in any::<bool>(),
            ) {
                // Any tokens at all, in any order, not only what from_corpus makes.
                let tokens: BTreeSet<String> = tokens;
                let tokens: Vec<String> = [PAD_TOKEN.to_owned(), UNK_TOKEN.to_owned()]
                    .into_iter()
                    .chain(tokens)
                    .collect();
                let vocab = Vocabulary::new(tokens, strip).unwrap();
                let back = Vocabulary::from_json(&vocab.to_json()).unwrap();
                prop_assert_eq!(&back, &vocab);
                for (id, token) in vocab.tokens().iter().enumerate() {
                    prop_assert_eq!(back.get(token), Some(id as u32));
                }
            }

            #[test]
            fn a_vocabulary_from_a_corpus_round_trips_through_json(
                corpus in vec(text(), 0..8),
                strip in any::<bool>(),
            ) {
                let vocab = Vocabulary::from_corpus(&corpus, 1, None, strip).unwrap();
                prop_assert_eq!(Vocabulary::from_json(&vocab.to_json()).unwrap(), vocab);
            }
        }
    }
}
