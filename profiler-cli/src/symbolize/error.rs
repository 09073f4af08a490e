//! Why a binary could not be loaded for symbolization. These errors stay
//! inside the module: `Symbolizer` logs them once per binary and falls back
//! to addresses.

use std::path::PathBuf;

use crate::process::maps::MapsError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum SymbolizeError {
    #[error(transparent)]
    Maps(#[from] MapsError),
    #[error("cannot open {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot parse {path} as an object file")]
    Parse {
        path: PathBuf,
        #[source]
        source: object::Error,
    },
    #[error("{path} is not an ELF file")]
    NotElf { path: PathBuf },
    #[error("cannot read the DWARF of {path}")]
    Dwarf {
        path: PathBuf,
        #[source]
        source: gimli::Error,
    },
}

impl SymbolizeError {
    /// The message and those of all its sources, for a log line.
    pub(crate) fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(error) = source {
            text.push_str(": ");
            text.push_str(&error.to_string());
            source = error.source();
        }
        text
    }
}
