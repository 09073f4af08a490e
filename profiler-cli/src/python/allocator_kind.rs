//! Which allocator a CPython target runs with, told from its tables:
//! pymalloc, plain malloc (`PYTHONMALLOC=malloc`), the debug hooks, or
//! tracemalloc's hooks.

use std::fmt;

use crate::python::allocator_table::{DomainTable, Operation};

/// The allocator behind the object domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllocatorKind {
    Pymalloc,
    /// `PYTHONMALLOC=malloc`: the object domain calls the raw one.
    Malloc,
    /// `PYTHONMALLOC=*_debug` or a debug build.
    DebugHooks,
    /// tracemalloc is tracing.
    Tracemalloc,
    /// Hooks installed by something else (an embedding application).
    OtherHooks,
}

impl fmt::Display for AllocatorKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            AllocatorKind::Pymalloc => "pymalloc",
            AllocatorKind::Malloc => "malloc (PYTHONMALLOC=malloc)",
            AllocatorKind::DebugHooks => "debug hooks",
            AllocatorKind::Tracemalloc => "tracemalloc hooks",
            AllocatorKind::OtherHooks => {
                "hooks (debug, tracemalloc or custom; the binary has no symbols to tell)"
            }
        })
    }
}

/// Tells the kind from the object and raw tables. `malloc_name` is the
/// symbol of the object domain's malloc when symbols allow (stripped
/// binaries give None).
pub fn classify(
    object: &DomainTable,
    raw: &DomainTable,
    malloc_name: Option<&str>,
) -> AllocatorKind {
    let malloc = object.functions.get(&Operation::Malloc).copied();
    if object.context != 0 {
        // Hooks keep the allocator they wrap behind their context pointer.
        let name = malloc_name.unwrap_or_default();
        return if name.contains("tracemalloc") {
            AllocatorKind::Tracemalloc
        } else if name.contains("Debug") || name.contains("debug") {
            AllocatorKind::DebugHooks
        } else {
            AllocatorKind::OtherHooks
        };
    }
    if malloc.is_some() && malloc == raw.functions.get(&Operation::Malloc).copied() {
        AllocatorKind::Malloc
    } else {
        AllocatorKind::Pymalloc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn table(context: u64, malloc: u64) -> DomainTable {
        DomainTable {
            context,
            functions: HashMap::from([(Operation::Malloc, malloc)]),
            guarded_wrappers: HashMap::new(),
            inlined: HashMap::new(),
        }
    }

    #[test]
    fn kinds_from_tables() {
        let raw = table(0, 0x100);
        assert_eq!(
            classify(&table(0, 0x200), &raw, None),
            AllocatorKind::Pymalloc
        );
        assert_eq!(
            classify(&table(0, 0x100), &raw, None),
            AllocatorKind::Malloc
        );
        assert_eq!(
            classify(&table(0x9, 0x300), &raw, None),
            AllocatorKind::OtherHooks
        );
        let debug = Some("_PyMem_DebugMalloc");
        assert_eq!(
            classify(&table(0x9, 0x300), &raw, debug),
            AllocatorKind::DebugHooks
        );
        let traced = Some("tracemalloc_alloc_gil");
        assert_eq!(
            classify(&table(0x9, 0x300), &raw, traced),
            AllocatorKind::Tracemalloc
        );
    }
}
