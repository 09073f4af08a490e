//! The function symbols of one binary, sorted by address, and the lookup of
//! the symbol that covers an address.

/// How a symbol is bound; the more visible name wins among aliases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Binding {
    Global,
    Weak,
    Local,
}

/// One function symbol from .symtab or .dynsym.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FunctionSymbol {
    pub address: u64,
    /// 0 when the symbol table does not give one.
    pub size: u64,
    pub binding: Binding,
    pub name: String,
}

/// Function symbols for lookups by address. A symbol with a size covers
/// exactly its range; one without covers the addresses that follow it, up to
/// the next symbol with a size.
#[derive(Debug, Default)]
pub(crate) struct SymbolTable {
    with_size: Vec<FunctionSymbol>,
    without_size: Vec<FunctionSymbol>,
}

impl SymbolTable {
    pub fn new(symbols: Vec<FunctionSymbol>) -> Self {
        let (with_size, without_size) = symbols.into_iter().partition(|symbol| symbol.size > 0);
        Self {
            with_size: sorted_without_aliases(with_size),
            without_size: sorted_without_aliases(without_size),
        }
    }

    /// The name of the function symbol covering `vaddr`.
    pub fn lookup(&self, vaddr: u64) -> Option<&str> {
        let with_size = nearest_at_or_before(&self.with_size, vaddr);
        if let Some(symbol) = with_size.filter(|symbol| vaddr - symbol.address < symbol.size) {
            return Some(&symbol.name);
        }
        let sized_end = with_size.map_or(0, |symbol| symbol.address + symbol.size);
        nearest_at_or_before(&self.without_size, vaddr)
            .filter(|symbol| symbol.address >= sized_end)
            .map(|symbol| symbol.name.as_str())
    }
}

fn nearest_at_or_before(symbols: &[FunctionSymbol], vaddr: u64) -> Option<&FunctionSymbol> {
    let after = symbols.partition_point(|symbol| symbol.address <= vaddr);
    after.checked_sub(1).map(|index| &symbols[index])
}

/// Sorts by address and keeps one name per address, preferring: no symbol
/// version in the name (`free` over `cfree@GLIBC_2.2.5`), the fewest leading
/// underscores (`malloc` over `__libc_malloc`, `nanosleep` over the global
/// `__nanosleep` it is a weak alias of), the most visible binding, then the
/// name itself so that the choice is stable.
fn sorted_without_aliases(mut symbols: Vec<FunctionSymbol>) -> Vec<FunctionSymbol> {
    fn preference(symbol: &FunctionSymbol) -> (u64, bool, usize, Binding, &str) {
        let name = symbol.name.as_str();
        let underscores = name.len() - name.trim_start_matches('_').len();
        (
            symbol.address,
            name.contains('@'),
            underscores,
            symbol.binding,
            name,
        )
    }
    symbols.sort_by(|a, b| preference(a).cmp(&preference(b)));
    symbols.dedup_by_key(|symbol| symbol.address);
    symbols
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbol(address: u64, size: u64, binding: Binding, name: &str) -> FunctionSymbol {
        FunctionSymbol {
            address,
            size,
            binding,
            name: name.into(),
        }
    }

    fn table() -> SymbolTable {
        SymbolTable::new(vec![
            symbol(0x1000, 0, Binding::Global, "_init"),
            symbol(0x1100, 0x40, Binding::Local, "helper"),
            symbol(0x1200, 0x80, Binding::Global, "__libc_malloc"),
            symbol(0x1200, 0x80, Binding::Global, "malloc"),
            symbol(0x1200, 0x80, Binding::Local, "a_local_alias"),
            symbol(0x1280, 0x10, Binding::Global, "cfree@GLIBC_2.2.5"),
            symbol(0x1280, 0x10, Binding::Global, "free"),
            symbol(0x1290, 0x10, Binding::Global, "__nanosleep"),
            symbol(0x1290, 0x10, Binding::Weak, "nanosleep"),
            symbol(0x1300, 0, Binding::Global, "asm_entry"),
        ])
    }

    #[test]
    fn sized_symbol_covers_exactly_its_range() {
        let table = table();
        assert_eq!(table.lookup(0x1100), Some("helper"));
        assert_eq!(table.lookup(0x113f), Some("helper"));
        assert_eq!(table.lookup(0x1140), None, "padding after a sized function");
    }

    #[test]
    fn aliases_resolve_to_the_most_visible_plain_name() {
        let table = table();
        assert_eq!(table.lookup(0x1234), Some("malloc"));
        assert_eq!(table.lookup(0x1280), Some("free"));
        assert_eq!(table.lookup(0x129f), Some("nanosleep"));
    }

    #[test]
    fn unsized_symbol_covers_up_to_the_next_sized_one() {
        let table = table();
        assert_eq!(table.lookup(0x1050), Some("_init"));
        assert_eq!(table.lookup(0x1310), Some("asm_entry"));
        assert_eq!(table.lookup(0x999999), Some("asm_entry"));
        assert_eq!(table.lookup(0xfff), None);
    }
}
