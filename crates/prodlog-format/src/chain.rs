//! The current span's context, rendered once per span and thread rather than once per event.
//!
//! Walking the registry for every event (the current span, then each parent, each with a
//! slab lookup, a reference count taken and given back, and a read lock on its extensions)
//! was the largest single cost of an event in two spans: 29% of its time under `perf`, more
//! than formatting the five fields. So [`JsonLayer`](crate::JsonLayer) keeps, per thread, a
//! stack of the spans it saw entered (the mirror of the registry's own span stack, `on_enter`
//! and `on_exit`), and for the innermost one the [`Chain`]: the `"key":value` members of
//! every enclosing span, innermost first, each key once, ready for one `push_str`.
//!
//! A chain is valid as long as none of its spans' [`SpanFields`] changed. Each `SpanFields`
//! hands out a flag that it raises when a field is recorded into it, added to it or when it
//! is dropped (see `Version`); a chain holds the flags of its spans and is rebuilt when one
//! is up. That check is a few plain loads, and the common event reads no registry at all.
//! A chain is also kept in its innermost span's extensions, so the next time the span is
//! entered (the next poll of an instrumented future) it is found with one lookup.
//!
//! An event with an explicit parent, or one with no span entered through this layer, takes
//! the registry walk as before.
//!
//! The stack is this layer's view of the registry's: it changes in this layer's own
//! `on_enter` and `on_exit`, after the registry's and the layers before it. An event that
//! one of those layers emits from inside its own `on_enter` or `on_exit` (tracing advises
//! layers against emitting events from their callbacks; prodlog's own layers do not) would
//! carry the context of the span stack as it was just before that enter or exit. Checking
//! every event against the registry's current span closes that gap but costs a slab
//! lookup per event: 175 to 202 ns on the sink event, so it is not done.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use tracing_core::span::Id;
use tracing_core::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::keys::KeySet;
use crate::schema::JsonSchema;
use crate::span_fields::SpanFields;

/// The longest chain kept, in spans and in bytes.
const MAX_SPANS: usize = 64;
const MAX_TEXT: usize = 16 * 1024;

/// What a chain is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Syntax {
    /// JSON members with a schema's key names.
    Json(JsonSchema),
    /// ` key=value` pairs for the console.
    Console,
}

/// The fields of a span and all its parents, as one fragment of a line.
#[derive(Debug)]
pub(crate) struct Chain {
    /// `,"key":value` (or ` key=value`) for every key of every span, innermost span first,
    /// each key once.
    pub(crate) text: String,
    /// The key set's hash bits of `keys`.
    pub(crate) mask: u64,
    pub(crate) keys: Box<[&'static str]>,
    /// The innermost span: its name and id.
    pub(crate) name: &'static str,
    pub(crate) id: Id,
    syntax: Syntax,
    /// One per span of the chain: raised when that span's fields change.
    flags: smallvec::SmallVec<[Arc<AtomicBool>; 4]>,
    /// The flight recorder's recording of the request the span is in (`crate::record`).
    pub(crate) recording: Option<Arc<crate::record::Recording>>,
}

impl Chain {
    /// No field of any span of the chain changed since it was rendered.
    #[inline]
    fn is_fresh(&self, syntax: Syntax) -> bool {
        self.syntax == syntax && self.flags.iter().all(|f| !f.load(Ordering::Acquire))
    }

    /// Renders the chain of `id` (and its parents) as the layer's filter sees it; `None`
    /// when the span is gone.
    fn build<S>(id: &Id, ctx: &Context<'_, S>, syntax: Syntax) -> Option<Chain>
    where
        S: Subscriber + for<'l> LookupSpan<'l>,
    {
        let innermost = ctx.span(id)?;
        let mut keys = KeySet::new();
        let mut chain = Chain {
            text: String::new(),
            mask: 0,
            keys: Box::default(),
            name: innermost.name(),
            id: id.clone(),
            syntax,
            flags: smallvec::SmallVec::new(),
            recording: crate::record_layer::recording_in(&innermost),
        };
        for span in innermost.scope() {
            // Each span keeps its whole chain: deep recursion would keep a quadratic amount
            // of text, so deep or huge chains are not kept (those events walk the registry).
            if chain.flags.len() >= MAX_SPANS || chain.text.len() > MAX_TEXT {
                return None;
            }
            // A span with no fields yet gets an empty set, so that whatever adds to it later
            // (`Span::record`, `prodlog_context::add`) raises the flag this chain watches.
            if span.extensions().get::<SpanFields>().is_none() {
                let mut ext = span.extensions_mut();
                if ext.get_mut::<SpanFields>().is_none() {
                    ext.insert(SpanFields::default());
                }
            }
            let ext = span.extensions();
            let fields = ext.get::<SpanFields>()?;
            chain.flags.push(fields.version_flag());
            match syntax {
                Syntax::Json(schema) => {
                    fields.write_json_schema(&mut chain.text, &mut keys, schema)
                }
                Syntax::Console => fields.write_console(&mut chain.text, &mut keys),
            }
        }
        let (mask, list) = keys.into_parts();
        chain.mask = mask;
        chain.keys = list.into_boxed_slice();
        Some(chain)
    }
}

/// The chains kept in a span's extensions, one per layer (layers may see different spans
/// of the same tree through their filters).
#[derive(Default)]
struct Cached(smallvec::SmallVec<[(usize, Arc<Chain>); 1]>);

/// The raise-on-change flag of a [`SpanFields`]: made when a chain first watches the span,
/// raised (and forgotten) when its fields change or it is dropped. A clone starts unwatched.
#[derive(Debug, Default)]
pub(crate) struct Version(OnceLock<Arc<AtomicBool>>);

impl Version {
    pub(crate) fn flag(&self) -> Arc<AtomicBool> {
        self.0.get_or_init(Default::default).clone()
    }

    /// The fields are about to change: every chain rendered from them is stale.
    pub(crate) fn bump(&mut self) {
        if let Some(flag) = self.0.take() {
            flag.store(true, Ordering::Release);
        }
    }
}

impl Clone for Version {
    fn clone(&self) -> Self {
        Version::default()
    }
}

impl Drop for Version {
    fn drop(&mut self) {
        self.bump();
    }
}

/// One span entered on this thread, as the registry's span stack keeps it: a span entered
/// again while already on the stack is a duplicate, and does not become the current span.
struct Frame {
    id: Id,
    duplicate: bool,
    chain: Option<Arc<Chain>>,
    /// No chain can be kept for this span (too deep, or gone): walk the registry.
    walk: bool,
}

#[derive(Default)]
struct Stack {
    frames: RefCell<Vec<Frame>>,
    /// An enter or exit could not be applied (a re-entrant call): stop trusting the stack.
    broken: Cell<bool>,
}

/// Per thread, the spans entered through the layer (see the module docs).
pub(crate) struct Frames {
    stacks: thread_local::ThreadLocal<Stack>,
    /// Tells this layer's chains from other layers' in a span's extensions.
    owner: usize,
}

impl Default for Frames {
    fn default() -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        Frames {
            stacks: thread_local::ThreadLocal::new(),
            owner: NEXT.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl std::fmt::Debug for Frames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Frames")
    }
}

impl Frames {
    pub(crate) fn enter(&self, id: &Id) {
        let stack = self.stacks.get_or_default();
        match stack.frames.try_borrow_mut() {
            Ok(mut frames) => {
                let duplicate = frames.iter().any(|f| f.id == *id);
                frames.push(Frame {
                    id: id.clone(),
                    duplicate,
                    chain: None,
                    walk: false,
                });
            }
            Err(_) => stack.broken.set(true),
        }
    }

    pub(crate) fn exit(&self, id: &Id) {
        let Some(stack) = self.stacks.get() else {
            return;
        };
        match stack.frames.try_borrow_mut() {
            Ok(mut frames) => {
                if let Some(at) = frames.iter().rposition(|f| f.id == *id) {
                    frames.remove(at);
                }
            }
            Err(_) => stack.broken.set(true),
        };
    }

    /// The chain of the span `event` is in, fresh, taken out of the stack for the event and
    /// put back when the [`Taken`] drops. `None` when the event must take the registry
    /// walk: an explicit parent, no span entered here, or a chain that cannot be kept.
    #[inline]
    pub(crate) fn take<S>(
        &self,
        event: &Event<'_>,
        ctx: &Context<'_, S>,
        syntax: Syntax,
    ) -> Option<Taken<'_>>
    where
        S: Subscriber + for<'l> LookupSpan<'l>,
    {
        if !event.is_contextual() {
            return None;
        }
        let stack = self.stacks.get()?;
        if stack.broken.get() {
            return None;
        }
        let (id, taken) = {
            let mut frames = stack.frames.try_borrow_mut().ok()?;
            let top = frames.iter_mut().rev().find(|f| !f.duplicate)?;
            if top.walk {
                return None;
            }
            (top.id.clone(), top.chain.take())
        };
        let chain = match taken.filter(|c| c.is_fresh(syntax)) {
            Some(chain) => chain,
            None => self.resolve_or_walk(stack, &id, ctx, syntax)?,
        };
        Some(Taken {
            chain: Some(chain),
            stack,
        })
    }

    /// [`resolve`](Self::resolve), or the frame marked to walk the registry when no chain
    /// can be kept for it.
    #[cold]
    #[inline(never)]
    fn resolve_or_walk<S>(
        &self,
        stack: &Stack,
        id: &Id,
        ctx: &Context<'_, S>,
        syntax: Syntax,
    ) -> Option<Arc<Chain>>
    where
        S: Subscriber + for<'l> LookupSpan<'l>,
    {
        let chain = self.resolve(id, ctx, syntax);
        if chain.is_none() {
            if let Ok(mut frames) = stack.frames.try_borrow_mut() {
                if let Some(top) = frames.iter_mut().rev().find(|f| !f.duplicate) {
                    top.walk = top.id == *id;
                }
            }
        }
        chain
    }

    /// The chain kept in the span's extensions when fresh; else a new one, kept there.
    #[cold]
    fn resolve<S>(&self, id: &Id, ctx: &Context<'_, S>, syntax: Syntax) -> Option<Arc<Chain>>
    where
        S: Subscriber + for<'l> LookupSpan<'l>,
    {
        let span = ctx.span(id)?;
        let kept = span.extensions().get::<Cached>().and_then(|c| {
            c.0.iter()
                .find(|(o, _)| *o == self.owner)
                .map(|(_, c)| c.clone())
        });
        if let Some(chain) = kept.filter(|c| c.is_fresh(syntax)) {
            return Some(chain);
        }
        let chain = Arc::new(Chain::build(id, ctx, syntax)?);
        let mut ext = span.extensions_mut();
        let entry = (self.owner, chain.clone());
        match ext.get_mut::<Cached>() {
            Some(cached) => match cached.0.iter_mut().find(|(o, _)| *o == self.owner) {
                Some(kept) => *kept = entry,
                None => cached.0.push(entry),
            },
            None => ext.insert(Cached(smallvec::smallvec![entry])),
        }
        Some(chain)
    }
}

/// A chain out of its frame for one event (a re-entrant event inside finds the frame empty
/// and resolves its own); back on the frame when dropped, if that is still the current one.
pub(crate) struct Taken<'a> {
    chain: Option<Arc<Chain>>,
    /// This thread's stack, found once per event.
    stack: &'a Stack,
}

impl Taken<'_> {
    pub(crate) fn chain(&self) -> Option<&Chain> {
        self.chain.as_deref()
    }

    /// The chain, shared (a recorded event keeps it).
    pub(crate) fn shared(&self) -> Option<&Arc<Chain>> {
        self.chain.as_ref()
    }
}

impl Drop for Taken<'_> {
    fn drop(&mut self) {
        let (Some(chain), Ok(mut frames)) = (self.chain.take(), self.stack.frames.try_borrow_mut())
        else {
            return;
        };
        if let Some(top) = frames.iter_mut().rev().find(|f| !f.duplicate) {
            if top.id == chain.id && top.chain.is_none() {
                top.chain = Some(chain);
            }
        }
    }
}
