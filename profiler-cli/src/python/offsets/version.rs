//! A CPython version, as `PY_VERSION_HEX` or `Py_Version` encode it.

use std::fmt;

/// A CPython release: `3.11.7`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PythonVersion {
    pub major: u8,
    pub minor: u8,
    pub micro: u8,
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// Decodes `PY_VERSION_HEX` (`0xMMmmuuLS`: major, minor, micro, release
/// level and serial); the release level and serial are dropped.
pub fn parse_version_hex(hex: u64) -> PythonVersion {
    PythonVersion {
        major: (hex >> 24) as u8,
        minor: (hex >> 16) as u8,
        micro: (hex >> 8) as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_py_version_hex() {
        let version = parse_version_hex(0x030B_07F0);
        assert_eq!(
            version,
            PythonVersion {
                major: 3,
                minor: 11,
                micro: 7
            }
        );
        assert_eq!(version.to_string(), "3.11.7");
        // A release candidate: level 0xC, serial 1.
        assert_eq!(parse_version_hex(0x030E_00C1).to_string(), "3.14.0");
    }
}
