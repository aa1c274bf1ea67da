//! Binding facts straight from JSON text, without building a `serde_json::Value` tree.
//!
//! A [`JsonBinder`] turns a [`Schema`]'s dotted fact paths into a trie once; binding a
//! document then walks the JSON text with serde, descending only into keys the trie knows,
//! converting each fact's value to its declared type as it is read and skipping the rest.
//! It is the path for many records (`salesplay report` binds every JSONL line with it); the
//! result is the same as parsing to a `Value` and calling [`Facts::from_json`], and the two are
//! compared by a property test.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::{self, Write as _};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::types::{Schema, Type};
use crate::value::{
    BindError, Facts, Value, list_too_long, value_from_bool, value_from_number, value_from_str,
    wrong_kind,
};

/// Binds JSON documents to the facts of a [`Schema`], reading the text once.
///
/// Besides facts it can *capture* other paths (an account's id, the date it entered its
/// stage): their values are returned as [`Captured`], and a path may be both a fact and a
/// capture. Like [`Facts::from_json`], a dotted path `a.b` reads `{"a": {"b": ...}}` or a flat
/// key `"a.b"`, `null` is absent and undeclared keys are ignored; unlike it, the binder also
/// rejects a key repeated in one object and a fact given twice (flat and nested), since a
/// record that says two things is a bad record.
///
/// ```
/// use salesplay_expr::{Captured, JsonBinder, Schema, Type, Value};
/// let mut schema = Schema::new();
/// let level = schema.declare("relationship.level", Type::enumeration(["acquainted", "dating"], true))?;
/// let mut binder = JsonBinder::new(&schema);
/// let id = binder.capture("id");
/// let bound = binder
///     .bind(br#"{"id": "acct-1", "relationship": {"level": "dating"}, "notes": [1, 2]}"#)
///     .map_err(|e| e.to_string())?;
/// assert_eq!(bound.facts().get(level), &Value::Enum(1));
/// assert_eq!(bound.captured(id), Some(&Captured::String("acct-1".into())));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct JsonBinder<'s> {
    schema: &'s Schema,
    /// The trie; `nodes[0]` is the document's top level.
    nodes: Vec<Node>,
    captures: usize,
    max_list_len: usize,
}

#[derive(Clone, Debug)]
struct Node {
    /// The segment that leads here from `parent`, and its signature.
    name: Box<str>,
    sig: Sig,
    /// `u32::MAX` for the top level.
    parent: u32,
    /// Child segments with their signatures, sorted by signature, then name.
    children: Vec<(Box<str>, Sig, u32)>,
    /// The fact whose path ends here.
    fact: Option<u32>,
    /// The capture whose path ends here.
    capture: Option<u32>,
}

impl Node {
    fn new(name: &str, parent: u32) -> Node {
        Node {
            name: name.into(),
            sig: Sig::of(name),
            parent,
            children: Vec::new(),
            fact: None,
            capture: None,
        }
    }
}

/// The value of a captured path. Lists and objects are captured by kind only.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Captured {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number, as written.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// A list (its elements are not kept).
    List,
    /// An object (its members are not kept).
    Object,
}

/// The kind of a JSON value, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonKind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// A list.
    List,
    /// An object.
    Object,
}

/// Why a document could not be bound.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonFactsError {
    /// Not well-formed JSON, or a key repeated in one object; the error has the line and
    /// column.
    #[error("{0}")]
    Syntax(serde_json::Error),
    /// The document is not an object.
    #[error("the facts must be an object, found {0:?}")]
    NotAnObject(JsonKind),
    /// Values that do not fit their declared types, in slot order.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Facts(Vec<BindError>),
}

/// The facts and captures of one document; reuse it across documents with
/// [`JsonBinder::bind_into`] to keep its allocations.
#[derive(Clone, Debug, Default)]
pub struct Bound {
    facts: Facts,
    captures: Vec<Option<Captured>>,
    /// Which facts the document named (to reject one given twice).
    seen: Vec<bool>,
    /// The key stack's allocation, kept between documents.
    spare_keys: Vec<(Sig, Cow<'static, str>)>,
    /// Per trie node, the node whose key came next last time: at `2n` the key after node
    /// `n`'s in its object, at `2n + 1` the first key inside node `n`'s object (records of
    /// one export usually write their keys in one order, so the guess saves the search).
    follow: Vec<u32>,
    /// Per trie node, the object it was last read in, to reject a repeated key.
    marks: Vec<u32>,
    /// The number of the object being read (for `marks`).
    object: u32,
}

impl Bound {
    /// Empty; sized by the first [`JsonBinder::bind_into`].
    pub fn new() -> Bound {
        Bound::default()
    }

    /// The facts.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// The facts, taken out.
    pub fn into_facts(self) -> Facts {
        self.facts
    }

    /// The value of capture `index` (from [`JsonBinder::capture`]), or `None` when the
    /// document does not have it.
    pub fn captured(&self, index: usize) -> Option<&Captured> {
        self.captures.get(index).and_then(Option::as_ref)
    }
}

impl<'s> JsonBinder<'s> {
    /// A binder for `schema`'s facts, with no limit on list lengths.
    pub fn new(schema: &'s Schema) -> JsonBinder<'s> {
        let mut binder = JsonBinder {
            schema,
            nodes: vec![Node::new("", u32::MAX)],
            captures: 0,
            max_list_len: usize::MAX,
        };
        for (slot, decl) in schema.facts().iter().enumerate() {
            let node = binder.insert(&decl.path);
            if let Some(node) = binder.nodes.get_mut(node) {
                node.fact = u32::try_from(slot).ok();
            }
        }
        binder
    }

    /// Rejects fact lists longer than `max` elements.
    #[must_use]
    pub fn max_list_len(mut self, max: usize) -> JsonBinder<'s> {
        self.max_list_len = max;
        self
    }

    /// Also captures the value at dotted `path` and returns the index to read it back with
    /// [`Bound::captured`]. Capturing one path twice returns the same index.
    pub fn capture(&mut self, path: &str) -> usize {
        let node = self.insert(path);
        let next = u32::try_from(self.captures).unwrap_or(u32::MAX);
        match self.nodes.get_mut(node) {
            Some(n) => match n.capture {
                Some(existing) => existing as usize,
                None => {
                    n.capture = Some(next);
                    self.captures += 1;
                    next as usize
                }
            },
            None => usize::MAX,
        }
    }

    /// Binds one JSON document.
    pub fn bind(&self, json: &[u8]) -> Result<Bound, JsonFactsError> {
        let mut bound = Bound::new();
        self.bind_into(json, &mut bound)?;
        Ok(bound)
    }

    /// Binds one JSON document into `out`, reusing its allocations. On error `out` holds
    /// what was bound so far and should not be used.
    pub fn bind_into(&self, json: &[u8], out: &mut Bound) -> Result<(), JsonFactsError> {
        // Valid UTF-8 is checked once for the whole text (fast), not string by string; text
        // that is not goes through the slice reader, whose error says where.
        match std::str::from_utf8(json) {
            Ok(text) => self.bind_from(serde_json::Deserializer::from_str(text), out),
            Err(_) => self.bind_from(serde_json::Deserializer::from_slice(json), out),
        }
    }

    fn bind_from<'de, R: serde_json::de::Read<'de>>(
        &self,
        mut de: serde_json::Deserializer<R>,
        out: &mut Bound,
    ) -> Result<(), JsonFactsError> {
        out.facts.values.clear();
        out.facts.values.resize(self.schema.len(), Value::Null);
        out.captures.clear();
        out.captures.resize(self.captures, None);
        out.seen.clear();
        out.seen.resize(self.schema.len(), false);
        out.follow
            .resize(self.nodes.len().saturating_mul(2), u32::MAX);
        out.marks.resize(self.nodes.len(), 0);
        let keys = KeyStack {
            keys: recycle(std::mem::take(&mut out.spare_keys)),
        };
        let mut state = State {
            binder: self,
            out,
            errors: Vec::new(),
            keys,
        };
        let read = Top(&mut state)
            .deserialize(&mut de)
            .and_then(|top| de.end().map(|()| top));
        let State {
            out,
            mut errors,
            keys,
            ..
        } = state;
        out.spare_keys = recycle(keys.keys);
        if let Err(kind) = read.map_err(JsonFactsError::Syntax)? {
            return Err(JsonFactsError::NotAnObject(kind));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            errors.sort_by_key(|(slot, _)| *slot);
            Err(JsonFactsError::Facts(
                errors.into_iter().map(|(_, e)| e).collect(),
            ))
        }
    }

    /// The node for dotted `path`, created with its ancestors as needed.
    fn insert(&mut self, path: &str) -> usize {
        let mut node = 0usize;
        for segment in path.split('.') {
            let next = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
            let Some(current) = self.nodes.get_mut(node) else {
                return node;
            };
            let sig = Sig::of(segment);
            node = match current
                .children
                .binary_search_by(|(name, g, _)| (*g, &**name).cmp(&(sig, segment)))
            {
                Ok(i) => current.children.get(i).map_or(0, |(_, _, c)| *c as usize),
                Err(i) => {
                    current.children.insert(i, (segment.into(), sig, next));
                    let parent = u32::try_from(node).unwrap_or(u32::MAX);
                    self.nodes.push(Node::new(segment, parent));
                    next as usize
                }
            };
        }
        node
    }

    /// The child of `node` named `segment` (of signature `sig`): a binary search on
    /// signatures, then names compared (for long ones) among equal signatures.
    fn child(&self, node: usize, segment: &str, sig: Sig) -> Option<usize> {
        let children = &self.nodes.get(node)?.children;
        let first = children.partition_point(|(_, g, _)| *g < sig);
        children
            .get(first..)?
            .iter()
            .take_while(|(_, g, _)| *g == sig)
            .find(|(name, g, _)| g.same(name, sig, segment))
            .map(|(_, _, c)| *c as usize)
    }

    /// The node reached from `node` by key `key` (which may itself be dotted).
    fn descend(&self, node: usize, key: &str, sig: Sig) -> Option<usize> {
        if !sig.dotted(key) {
            return self.child(node, key, sig);
        }
        key.split('.').try_fold(node, |node, segment| {
            self.child(node, segment, Sig::of(segment))
        })
    }
}

/// A key's signature: its length and its first and last eight bytes. Keys with different
/// signatures differ, and for keys of up to 16 bytes equal signatures mean equal keys, so
/// comparing short keys (nearly all of them) is three integer compares and no `memcmp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Sig {
    len: usize,
    head: u64,
    tail: u64,
}

impl Sig {
    fn of(key: &str) -> Sig {
        let bytes = key.as_bytes();
        let len = bytes.len();
        Sig {
            len,
            head: word(bytes),
            tail: word(bytes.get(len.saturating_sub(8)..).unwrap_or_default()),
        }
    }

    /// Whether `a` (of signature `self`) and `b` (of signature `other`) are the same key.
    fn same(self, a: &str, other: Sig, b: &str) -> bool {
        self == other && (self.len <= 16 || a == b)
    }

    /// Whether the key has a `.` (of signature `self`).
    fn dotted(self, key: &str) -> bool {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        const DOTS: u64 = ONES * b'.' as u64;
        let has_dot = |w: u64| {
            let x = w ^ DOTS;
            x.wrapping_sub(ONES) & !x & HIGHS != 0
        };
        if self.len <= 16 {
            // The two words cover the key; their zero padding is no dot.
            has_dot(self.head) || has_dot(self.tail)
        } else {
            key.as_bytes().contains(&b'.')
        }
    }
}

/// Up to the first eight bytes as a little-endian word, zero-padded.
fn word(bytes: &[u8]) -> u64 {
    match bytes.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
        Some(w) => u64::from_le_bytes(w),
        None => bytes
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)),
    }
}

/// An empty key stack for keys of another lifetime, on the same allocation: the elements have
/// the same layout, so collecting in place keeps the buffer and no key outlives its text.
fn recycle<'b>(mut keys: Vec<(Sig, Cow<'_, str>)>) -> Vec<(Sig, Cow<'b, str>)> {
    keys.clear();
    keys.into_iter()
        .map(|(sig, _)| (sig, Cow::Borrowed("")))
        .collect()
}

/// The state of one binding.
struct State<'b, 's, 'de> {
    binder: &'b JsonBinder<'s>,
    out: &'b mut Bound,
    /// Bad values with the slot of the fact they belong to.
    errors: Vec<(u32, BindError)>,
    keys: KeyStack<'de>,
}

/// Where a value is in the document, rendered only for an error message.
#[derive(Clone, Copy)]
enum Place<'a> {
    Fact(&'a str),
    Index(&'a Place<'a>, usize),
    Field(&'a Place<'a>, &'a str),
}

impl Place<'_> {
    fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            Place::Fact(path) => out.push_str(path),
            Place::Index(parent, i) => {
                parent.write(out);
                let _ = write!(out, "[{i}]");
            }
            Place::Field(parent, name) => {
                parent.write(out);
                out.push('.');
                out.push_str(name);
            }
        }
    }

    /// `result` with this place as the path of its error.
    fn locate(&self, result: Result<Value, BindError>) -> Result<Value, BindError> {
        result.map_err(|mut e| {
            e.path = self.render();
            e
        })
    }
}

/// The keys of the objects being read, innermost last, to reject a key repeated in one
/// object. One stack serves every nesting level, so reading an object allocates nothing; an
/// object with many keys moves to a hash set, so a hostile one stays linear.
#[derive(Default)]
struct KeyStack<'de> {
    keys: Vec<(Sig, Cow<'de, str>)>,
}

/// Keys of one object compared by scan up to this many; hashed beyond.
const FEW_KEYS: usize = 24;

/// The keys of one object on a [`KeyStack`].
struct Frame<'de> {
    start: usize,
    many: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> KeyStack<'de> {
    fn open(&self) -> Frame<'de> {
        Frame {
            start: self.keys.len(),
            many: None,
        }
    }

    /// Adds `key` to the object of `frame`; an error when the object already has it.
    fn insert<E: de::Error>(
        &mut self,
        frame: &mut Frame<'de>,
        key: Cow<'de, str>,
        sig: Sig,
    ) -> Result<(), E> {
        let mine = self.keys.get(frame.start..).unwrap_or_default();
        let repeated = match &frame.many {
            Some(set) => set.contains(&key),
            None => mine.iter().any(|(g, k)| g.same(k, sig, &key)),
        };
        if repeated {
            return Err(E::custom(format!(
                "the key `{key}` appears twice in one object"
            )));
        }
        match &mut frame.many {
            Some(set) => {
                set.insert(key);
            }
            None if mine.len() < FEW_KEYS => self.keys.push((sig, key)),
            None => {
                let mut set: HashSet<Cow<'de, str>> =
                    self.keys.drain(frame.start..).map(|(_, k)| k).collect();
                set.insert(key);
                frame.many = Some(set);
            }
        }
        Ok(())
    }

    fn close(&mut self, frame: Frame<'de>) {
        self.keys.truncate(frame.start);
    }
}

/// A key, borrowed from the text when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Reads the members of an object, calling `member` for each fresh key and its signature;
/// `member` must consume the value.
fn members<'de, A: MapAccess<'de>>(
    keys: &mut KeyStack<'de>,
    map: &mut A,
    mut member: impl FnMut(&mut KeyStack<'de>, &mut A, &str, Sig) -> Result<(), A::Error>,
) -> Result<(), A::Error> {
    let mut frame = keys.open();
    while let Some(key) = map.next_key_seed(KeySeed)? {
        let sig = Sig::of(&key);
        keys.insert(&mut frame, key.clone(), sig)?;
        member(keys, map, &key, sig)?;
    }
    keys.close(frame);
    Ok(())
}

/// Skips a value, still rejecting repeated keys in the objects inside it.
struct Skip<'k, 'de>(&'k mut KeyStack<'de>);

impl<'de> DeserializeSeed<'de> for Skip<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        skip_rest(self.0, &mut seq).map(|_| ())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        members(self.0, &mut map, |keys, map, _, _| {
            map.next_value_seed(Skip(keys))
        })
    }
}

/// Skips the rest of a list and returns how many elements it had.
fn skip_rest<'de, A: SeqAccess<'de>>(
    keys: &mut KeyStack<'de>,
    seq: &mut A,
) -> Result<usize, A::Error> {
    let mut n = 0usize;
    while seq.next_element_seed(Skip(keys))?.is_some() {
        n += 1;
    }
    Ok(n)
}

/// The top level: an object of facts (`Err(kind)` for anything else).
struct Top<'a, 'b, 's, 'de>(&'a mut State<'b, 's, 'de>);

impl<'de> DeserializeSeed<'de> for Top<'_, '_, '_, 'de> {
    type Value = Result<(), JsonKind>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_, '_, 'de> {
    type Value = Result<(), JsonKind>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of facts")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err(JsonKind::Bool))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err(JsonKind::Number))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err(JsonKind::Number))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err(JsonKind::Number))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err(JsonKind::String))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err(JsonKind::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        skip_rest(&mut self.0.keys, &mut seq)?;
        Ok(Err(JsonKind::List))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        group_members(self.0, 0, &mut map)?;
        Ok(Ok(()))
    }
}

/// Reads the members of an object at trie node `node`.
fn group_members<'de, A: MapAccess<'de>>(
    state: &mut State<'_, '_, 'de>,
    node: usize,
    map: &mut A,
) -> Result<(), A::Error> {
    let object = state.out.next_object();
    let mut frame = state.keys.open();
    // Where the guess for the next key is kept (see `Bound::follow`).
    let mut previous = node.saturating_mul(2).saturating_add(1);
    while let Some(key) = map.next_key_seed(KeySeed)? {
        let sig = Sig::of(&key);
        match state.find(node, previous, &key, sig) {
            Some(child) => {
                // A known key is repeated when its node was already read in this object.
                match state.out.marks.get_mut(child) {
                    Some(mark) if *mark == object => {
                        return Err(de::Error::custom(format!(
                            "the key `{key}` appears twice in one object"
                        )));
                    }
                    Some(mark) => *mark = object,
                    None => {}
                }
                if let Some(follow) = state.out.follow.get_mut(previous) {
                    *follow = u32::try_from(child).unwrap_or(u32::MAX);
                }
                previous = child.saturating_mul(2);
                map.next_value_seed(Member {
                    state: &mut *state,
                    node: child,
                })?;
            }
            None => {
                state.keys.insert(&mut frame, key.clone(), sig)?;
                map.next_value_seed(Skip(&mut state.keys))?;
            }
        }
    }
    state.keys.close(frame);
    Ok(())
}

impl Bound {
    /// A fresh number for the next object read.
    fn next_object(&mut self) -> u32 {
        self.object = self.object.wrapping_add(1);
        if self.object == 0 {
            // Wrapped: old marks could pass for new ones.
            self.marks.fill(0);
            self.object = 1;
        }
        self.object
    }
}

impl State<'_, '_, '_> {
    /// The trie node for `key` read in an object at `node`, where `previous` says what came
    /// before it (see `Bound::follow`): the node that followed last time when it matches,
    /// else a search.
    fn find(&self, node: usize, previous: usize, key: &str, sig: Sig) -> Option<usize> {
        let guess = self.out.follow.get(previous).copied().unwrap_or(u32::MAX) as usize;
        if let Some(n) = self.binder.nodes.get(guess)
            && n.parent as usize == node
            && n.sig.same(&n.name, sig, key)
        {
            return Some(guess);
        }
        self.binder.descend(node, key, sig)
    }
}

/// The value of a key the trie knows: a fact, a capture, a group of facts, or several.
struct Member<'a, 'b, 's, 'de> {
    state: &'a mut State<'b, 's, 'de>,
    node: usize,
}

impl<'de> DeserializeSeed<'de> for Member<'_, '_, '_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let state = self.state;
        let Some(node) = state.binder.nodes.get(self.node) else {
            return d.deserialize_any(Skip(&mut state.keys));
        };
        let capture = node.capture.map(|c| c as usize);
        let Some(slot) = node.fact else {
            return d.deserialize_any(GroupVisitor {
                state,
                node: self.node,
                capture,
            });
        };
        let schema = state.binder.schema;
        let Some(decl) = schema.facts().get(slot as usize) else {
            return d.deserialize_any(Skip(&mut state.keys));
        };
        let already = match state.out.seen.get_mut(slot as usize) {
            Some(seen) => std::mem::replace(seen, true),
            None => false,
        };
        let mut captured = None;
        let value = d.deserialize_any(Typed {
            ty: &decl.ty,
            place: Place::Fact(&decl.path),
            max_list_len: state.binder.max_list_len,
            capture: capture.map(|_| &mut captured),
            keys: &mut state.keys,
        })?;
        if let (Some(c), Some(cell)) = (capture, captured)
            && let Some(out) = state.out.captures.get_mut(c)
        {
            *out = Some(cell);
        }
        if already {
            state.errors.push((
                slot,
                BindError {
                    path: decl.path.clone(),
                    message: "the fact is given twice, once under a dotted key and once nested"
                        .into(),
                    help: Some("keep one of the two".into()),
                },
            ));
            return Ok(());
        }
        match value {
            Ok(value) => {
                if let Some(cell) = state.out.facts.values.get_mut(slot as usize) {
                    *cell = value;
                }
            }
            Err(e) => state.errors.push((slot, e)),
        }
        Ok(())
    }
}

/// An object holding facts under it (or a captured path that is no fact).
struct GroupVisitor<'a, 'b, 's, 'de> {
    state: &'a mut State<'b, 's, 'de>,
    node: usize,
    capture: Option<usize>,
}

impl GroupVisitor<'_, '_, '_, '_> {
    fn keep(self, value: Captured) {
        if let Some(cell) = self
            .capture
            .and_then(|c| self.state.out.captures.get_mut(c))
        {
            *cell = Some(value);
        }
    }
}

impl<'de> Visitor<'de> for GroupVisitor<'_, '_, '_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.keep(Captured::Bool(v));
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.keep(Captured::Number(v.into()));
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.keep(Captured::Number(v.into()));
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.keep(serde_json::Number::from_f64(v).map_or(Captured::Null, Captured::Number));
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.keep(Captured::String(v.to_owned()));
        Ok(())
    }
    fn visit_string<E>(self, v: String) -> Result<(), E> {
        self.keep(Captured::String(v));
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.keep(Captured::Null);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        skip_rest(&mut self.state.keys, &mut seq)?;
        self.keep(Captured::List);
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        group_members(self.state, self.node, &mut map)?;
        self.keep(Captured::Object);
        Ok(())
    }
}

/// A value of a declared type: the inner result is the value or why it does not fit.
struct Typed<'a, 'de> {
    ty: &'a Type,
    place: Place<'a>,
    max_list_len: usize,
    /// Where to keep the raw value too (for a fact that is also captured).
    capture: Option<&'a mut Option<Captured>>,
    keys: &'a mut KeyStack<'de>,
}

impl Typed<'_, '_> {
    fn keep(&mut self, value: impl FnOnce() -> Captured) {
        if let Some(cell) = self.capture.as_deref_mut() {
            *cell = Some(value());
        }
    }

    fn number(mut self, n: serde_json::Number) -> Result<Value, BindError> {
        let value = self.place.locate(value_from_number(&n, self.ty, ""));
        self.keep(|| Captured::Number(n));
        value
    }

    fn wrong(&self, found: &str) -> BindError {
        wrong_kind(self.ty, found, &self.place.render())
    }
}

impl<'de> DeserializeSeed<'de> for Typed<'_, 'de> {
    type Value = Result<Value, BindError>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Typed<'_, 'de> {
    type Value = Result<Value, BindError>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a value of type {}", self.ty)
    }
    fn visit_bool<E>(mut self, v: bool) -> Result<Self::Value, E> {
        self.keep(|| Captured::Bool(v));
        Ok(self.place.locate(value_from_bool(v, self.ty, "")))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(self.number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(self.number(v.into()))
    }
    fn visit_f64<E>(mut self, v: f64) -> Result<Self::Value, E> {
        Ok(match serde_json::Number::from_f64(v) {
            Some(n) => self.number(n),
            None => {
                self.keep(|| Captured::Null);
                Ok(Value::Null)
            }
        })
    }
    fn visit_str<E>(mut self, v: &str) -> Result<Self::Value, E> {
        self.keep(|| Captured::String(v.to_owned()));
        Ok(self.place.locate(value_from_str(v, self.ty, "")))
    }
    fn visit_unit<E>(mut self) -> Result<Self::Value, E> {
        self.keep(|| Captured::Null);
        Ok(Ok(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        self.keep(|| Captured::List);
        let Type::List(elem) = self.ty else {
            skip_rest(self.keys, &mut seq)?;
            return Ok(Err(self.wrong("a list")));
        };
        let max = self.max_list_len;
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
        let mut failed = None;
        while out.len() < max {
            let item = seq.next_element_seed(Typed {
                ty: elem,
                place: Place::Index(&self.place, out.len()),
                max_list_len: max,
                capture: None,
                keys: &mut *self.keys,
            })?;
            match item {
                None => return Ok(Ok(Value::List(out.into()))),
                Some(Ok(value)) => out.push(value),
                Some(Err(e)) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        // The length is checked before the elements, as `Facts::from_json` does.
        let read = out.len().saturating_add(usize::from(failed.is_some()));
        let len = read.saturating_add(skip_rest(self.keys, &mut seq)?);
        if len > max {
            return Ok(Err(list_too_long(&self.place.render(), len, max)));
        }
        Ok(match failed {
            Some(e) => Err(e),
            None => Ok(Value::List(out.into())),
        })
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        self.keep(|| Captured::Object);
        let Type::Record(record) = self.ty else {
            members(self.keys, &mut map, |keys, map, _, _| {
                map.next_value_seed(Skip(keys))
            })?;
            return Ok(Err(self.wrong("an object")));
        };
        let mut fields = vec![Value::Null; record.fields().len()];
        let mut failed: Option<(u32, BindError)> = None;
        let place = self.place;
        let max = self.max_list_len;
        let mut frame = self.keys.open();
        // Fields read so far, by declaration index (others, and unknown keys, on the stack).
        let mut read = 0u64;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let field = record.field(&key);
            match field {
                Some((index, _)) if index < 64 => {
                    let bit = 1u64 << index;
                    if read & bit != 0 {
                        return Err(de::Error::custom(format!(
                            "the key `{key}` appears twice in one object"
                        )));
                    }
                    read |= bit;
                }
                _ => self.keys.insert(&mut frame, key.clone(), Sig::of(&key))?,
            }
            let Some((index, field_ty)) = field else {
                map.next_value_seed(Skip(&mut *self.keys))?;
                continue;
            };
            let value = map.next_value_seed(Typed {
                ty: field_ty,
                place: Place::Field(&place, &key),
                max_list_len: max,
                capture: None,
                keys: &mut *self.keys,
            })?;
            match value {
                Ok(value) => {
                    if let Some(cell) = fields.get_mut(index as usize) {
                        *cell = value;
                    }
                }
                // The first bad field in declaration order, as `Facts::from_json` reports.
                Err(e) => {
                    if failed.as_ref().is_none_or(|(first, _)| index < *first) {
                        failed = Some((index, e));
                    }
                }
            }
        }
        self.keys.close(frame);
        Ok(match failed {
            Some((_, e)) => Err(e),
            None => Ok(Value::Record(fields.into())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Schema {
        let mut schema = Schema::new();
        schema.declare("a.flag", Type::Bool).unwrap();
        schema
            .declare("level", Type::enumeration(["low", "high"], true))
            .unwrap();
        schema
            .declare(
                "contacts",
                Type::list_of_records([("role", Type::String), ("age", Type::Int)]),
            )
            .unwrap();
        schema.declare("signed_on", Type::Date).unwrap();
        schema.declare("amount", Type::Number).unwrap();
        schema
    }

    fn same_as_value_path(schema: &Schema, text: &str) {
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        let expected = Facts::from_json(schema, &json);
        let actual = JsonBinder::new(schema).bind(text.as_bytes());
        match (expected, actual) {
            (Ok(e), Ok(a)) => assert_eq!(&e, a.facts(), "{text}"),
            (Err(e), Err(JsonFactsError::Facts(a))) => assert_eq!(e, a, "{text}"),
            (e, a) => panic!("{text}: {e:?} vs {a:?}"),
        }
    }

    #[test]
    fn agrees_with_binding_a_value() {
        let schema = schema();
        for text in [
            r#"{"a": {"flag": true}, "level": "high", "signed_on": "2026-02-28"}"#,
            r#"{"a.flag": false, "contacts": [{"role": "user", "age": 3, "x": [1]}, {}]}"#,
            r#"{"a": {"flag": "yes"}, "level": "hihg", "contacts": [{"role": 5}], "signed_on": "2026-02-30"}"#,
            r#"{"a": 3, "level": null, "amount": 5, "other": {"deep": [{"x": 1}]}}"#,
            r#"{"contacts": [{"age": 1.0, "role": 2}], "amount": 1e300}"#,
            r#"{"contacts": {"role": "x"}, "amount": "5"}"#,
            r#"{}"#,
        ] {
            same_as_value_path(&schema, text);
        }
    }

    #[test]
    fn rejects_repeated_keys_anywhere() {
        let schema = schema();
        let binder = JsonBinder::new(&schema);
        for text in [
            r#"{"level": "low", "level": "high"}"#,
            r#"{"other": {"x": 1, "x": 2}}"#,
            r#"{"contacts": [{"role": "a", "role": "b"}]}"#,
        ] {
            let Err(JsonFactsError::Syntax(e)) = binder.bind(text.as_bytes()) else {
                panic!("{text} was accepted");
            };
            assert!(e.to_string().contains("appears twice"), "{e}");
        }
        let Err(JsonFactsError::Facts(errors)) =
            binder.bind(br#"{"a.flag": true, "a": {"flag": false}}"#)
        else {
            panic!("a fact given twice was accepted");
        };
        assert_eq!(errors[0].path, "a.flag");
    }

    #[test]
    fn many_keys_stay_linear_and_still_catch_repeats() {
        let schema = schema();
        let mut text = String::from("{");
        for i in 0..5_000 {
            text.push_str(&format!("\"k{i}\": {i},"));
        }
        text.push_str("\"k17\": 0}");
        let Err(JsonFactsError::Syntax(e)) = JsonBinder::new(&schema).bind(text.as_bytes()) else {
            panic!("accepted");
        };
        assert!(e.to_string().contains("`k17` appears twice"));
    }

    #[test]
    fn captures_paths_and_facts_alike() {
        let schema = schema();
        let mut binder = JsonBinder::new(&schema);
        let id = binder.capture("id");
        let amount = binder.capture("amount");
        let group = binder.capture("a");
        assert_eq!(binder.capture("id"), id);
        let bound = binder
            .bind(br#"{"id": 17, "amount": 2.5, "a": {"flag": true}}"#)
            .unwrap();
        assert_eq!(bound.captured(id), Some(&Captured::Number(17.into())));
        assert_eq!(
            bound.captured(amount),
            Some(&Captured::Number(
                serde_json::Number::from_f64(2.5).unwrap()
            ))
        );
        assert_eq!(bound.captured(group), Some(&Captured::Object));
        let (flag, _) = schema.lookup("a.flag").unwrap();
        assert_eq!(bound.facts().get(flag), &Value::Bool(true));
        let (amount_slot, _) = schema.lookup("amount").unwrap();
        assert_eq!(bound.facts().get(amount_slot), &Value::Number(2.5));
    }

    #[test]
    fn not_an_object_and_bad_syntax() {
        let schema = schema();
        let binder = JsonBinder::new(&schema);
        assert!(matches!(
            binder.bind(b"[1, 2]"),
            Err(JsonFactsError::NotAnObject(JsonKind::List))
        ));
        assert!(matches!(
            binder.bind(b"\"x\""),
            Err(JsonFactsError::NotAnObject(JsonKind::String))
        ));
        let Err(JsonFactsError::Syntax(e)) = binder.bind(br#"{"level": "low""#) else {
            panic!("truncated text accepted");
        };
        assert!(e.is_eof());
        assert!(matches!(
            binder.bind(br#"{} {}"#),
            Err(JsonFactsError::Syntax(_))
        ));
    }

    #[test]
    fn long_lists_are_refused_with_their_length() {
        let schema = schema();
        let binder = JsonBinder::new(&schema).max_list_len(2);
        let text = json!({"contacts": [{}, {}, {}, {}]}).to_string();
        let Err(JsonFactsError::Facts(errors)) = binder.bind(text.as_bytes()) else {
            panic!("accepted");
        };
        assert_eq!(
            errors[0].message,
            "list has 4 elements, over the limit of 2"
        );
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            Facts::from_json_with(&schema, &json, 2).unwrap_err(),
            errors
        );
    }

    #[test]
    fn signatures_tell_keys_apart() {
        let keys = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "a.b",
            "contacts",
            "contacts1",
            "relationship",
            "relationship.lv",
            "relationship.lvl",
            "relationship.level",
            "relationship.levelx",
            "abcdefgh_XY_ijklmnop",
            "abcdefgh_YX_ijklmnop",
        ];
        for a in keys {
            for b in keys {
                let same = Sig::of(a).same(a, Sig::of(b), b);
                assert_eq!(same, a == b, "{a:?} vs {b:?}");
            }
            assert_eq!(Sig::of(a).dotted(a), a.contains('.'), "{a:?}");
        }
        // Long keys that share length, head and tail are told apart by their middles.
        assert_eq!(
            Sig::of("abcdefgh_XY_ijklmnop"),
            Sig::of("abcdefgh_YX_ijklmnop")
        );
    }

    #[test]
    fn recycling_keeps_the_allocation() {
        let mut keys: Vec<(Sig, Cow<'_, str>)> = Vec::with_capacity(40);
        keys.push((Sig::of("a"), Cow::Borrowed("a")));
        let again: Vec<(Sig, Cow<'static, str>)> = recycle(keys);
        assert!(again.is_empty());
        assert!(again.capacity() >= 40);
    }

    #[test]
    fn repeated_keys_are_caught_across_object_number_wrap() {
        let schema = schema();
        let binder = JsonBinder::new(&schema);
        let mut bound = Bound::new();
        bound.object = u32::MAX - 2;
        for _ in 0..4 {
            binder
                .bind_into(br#"{"a": {"flag": true}, "level": "low"}"#, &mut bound)
                .unwrap();
            assert!(matches!(
                binder.bind_into(br#"{"level": "low", "a": {}, "level": "low"}"#, &mut bound),
                Err(JsonFactsError::Syntax(_))
            ));
        }
        // Keys in a new order still bind: guesses are checked.
        binder
            .bind_into(br#"{"level": "high", "a": {"flag": false}}"#, &mut bound)
            .unwrap();
        let (flag, _) = schema.lookup("a.flag").unwrap();
        assert_eq!(bound.facts().get(flag), &Value::Bool(false));
    }

    #[test]
    fn reuses_the_bound_buffer() {
        let schema = schema();
        let binder = JsonBinder::new(&schema);
        let mut bound = Bound::new();
        binder
            .bind_into(br#"{"level": "high"}"#, &mut bound)
            .unwrap();
        binder.bind_into(br#"{"amount": 1}"#, &mut bound).unwrap();
        let (level, _) = schema.lookup("level").unwrap();
        assert_eq!(bound.facts().get(level), &Value::Null);
    }
}
