//! Parsing and printing durations and sizes.
//!
//! Parsing is exact: the number is read as a decimal and scaled with integer
//! arithmetic, so "0.1s" is 100 ms and "1.5KiB" is 1536 bytes.

use std::time::Duration;

use thiserror::Error;

/// What a text was meant to be; it names the quantity and its accepted forms
/// in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    Duration,
    Size,
}

impl Quantity {
    fn name(self) -> &'static str {
        match self {
            Quantity::Duration => "duration",
            Quantity::Size => "size",
        }
    }

    fn forms(self) -> &'static str {
        match self {
            Quantity::Duration => {
                "seconds such as \"10\" or \"1.5\", or a number with a unit ms, s, m or h \
                 such as \"500ms\", \"10s\", \"5m\", \"2h\""
            }
            Quantity::Size => {
                "bytes such as \"1024\", or a number with a unit: k, KiB, MiB, GiB, TiB \
                 (1024-based) or KB, MB, GB, TB (1000-based), B optional, any case, \
                 such as \"4k\", \"2MiB\", \"500KB\""
            }
        }
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a duration or size could not be parsed. Every message quotes the input
/// and, where it helps, the accepted forms.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum UnitError {
    #[error("empty {quantity}: expected {}", .quantity.forms())]
    Empty { quantity: Quantity },
    #[error("invalid {quantity} {text:?}: expected {}", .quantity.forms())]
    Invalid { quantity: Quantity, text: String },
    #[error("invalid {quantity} {text:?}: unknown unit {unit:?}; expected {}", .quantity.forms())]
    UnknownUnit {
        quantity: Quantity,
        text: String,
        unit: String,
    },
    #[error("invalid {quantity} {text:?}: it must not be negative")]
    Negative { quantity: Quantity, text: String },
    #[error("invalid duration {text:?}: it must be greater than zero, such as \"10s\"")]
    ZeroDuration { text: String },
    #[error("invalid {quantity} {text:?}: it is too large")]
    TooLarge { quantity: Quantity, text: String },
}

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Parses a duration: plain seconds ("10", "1.5") or a number with a unit
/// ("500ms", "10s", "5m", "2h"). Zero is refused.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let quantity = Quantity::Duration;
    let (number, unit) = split(text, quantity)?;
    let nanos_per_unit = match unit.to_ascii_lowercase().as_str() {
        "ms" => NANOS_PER_SEC / 1000,
        "" | "s" => NANOS_PER_SEC,
        "m" => 60 * NANOS_PER_SEC,
        "h" => 3600 * NANOS_PER_SEC,
        _ => return Err(unknown_unit(quantity, text, unit)),
    };
    let nanos = number
        .scale(nanos_per_unit)
        .ok_or_else(|| too_large(quantity, text))?;
    if nanos == 0 {
        return Err(UnitError::ZeroDuration { text: text.into() });
    }
    let secs = u64::try_from(nanos / NANOS_PER_SEC).map_err(|_| too_large(quantity, text))?;
    let subsec = u32::try_from(nanos % NANOS_PER_SEC).expect("below one second");
    Ok(Duration::new(secs, subsec))
}

/// Parses a size in bytes: "1024", "4k" (KiB), "2MiB", "500KB", "1GiB".
/// Units are case-insensitive and the B is optional; KB, MB, GB and TB are
/// 1000-based, k, KiB, MiB, GiB and TiB (and M, G, T) 1024-based.
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    let quantity = Quantity::Size;
    let (number, unit) = split(text, quantity)?;
    let bytes_per_unit: u128 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => return Err(unknown_unit(quantity, text, unit)),
    };
    number
        .scale(bytes_per_unit)
        .and_then(|bytes| u64::try_from(bytes).ok())
        .ok_or_else(|| too_large(quantity, text))
}

/// A non-negative decimal number as written: integer digits and fraction digits.
struct Decimal<'a> {
    integer: &'a str,
    fraction: &'a str,
}

impl Decimal<'_> {
    /// The number times `factor`, rounded to the nearest integer (halves up).
    /// `None` on overflow.
    fn scale(&self, factor: u128) -> Option<u128> {
        // Fraction digits past the 18th are ignored: below 10^-5 of a unit
        // (byte or nanosecond) for every factor used here.
        let fraction = &self.fraction[..self.fraction.len().min(18)];
        let integer = if self.integer.is_empty() {
            0
        } else {
            self.integer.parse::<u128>().ok()?
        };
        let mut scaled = integer.checked_mul(factor)?;
        if !fraction.is_empty() {
            let denominator = 10u128.pow(u32::try_from(fraction.len()).ok()?);
            let numerator = fraction.parse::<u128>().ok()?.checked_mul(factor)?;
            scaled = scaled.checked_add((numerator + denominator / 2) / denominator)?;
        }
        Some(scaled)
    }
}

/// Splits "1.5 MiB" into its number and its unit (possibly empty).
fn split(text: &str, quantity: Quantity) -> Result<(Decimal<'_>, &str), UnitError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(UnitError::Empty { quantity });
    }
    if trimmed.starts_with('-') {
        return Err(UnitError::Negative {
            quantity,
            text: text.into(),
        });
    }
    let number_end = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(number_end);
    let (integer, fraction) = number.split_once('.').unwrap_or((number, ""));
    let has_digits = !integer.is_empty() || !fraction.is_empty();
    if !has_digits || fraction.contains('.') {
        return Err(UnitError::Invalid {
            quantity,
            text: text.into(),
        });
    }
    Ok((Decimal { integer, fraction }, unit.trim_start()))
}

fn unknown_unit(quantity: Quantity, text: &str, unit: &str) -> UnitError {
    UnitError::UnknownUnit {
        quantity,
        text: text.into(),
        unit: unit.into(),
    }
}

fn too_large(quantity: Quantity, text: &str) -> UnitError {
    UnitError::TooLarge {
        quantity,
        text: text.into(),
    }
}

const BINARY_UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/// Bytes in binary units with one decimal: "512 B", "1.5 MiB".
pub fn format_bytes(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    // Move up while the value, rounded to one decimal, would show 1024 or more.
    while unit + 1 < BINARY_UNITS.len() && (value * 10.0).round() / 10.0 >= 1024.0 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", BINARY_UNITS[unit])
}

/// A change in bytes with its sign: "+1.5 MiB", "-512 B", "0 B".
pub fn format_signed_bytes(bytes: i64) -> String {
    let magnitude = format_bytes(bytes.unsigned_abs());
    match bytes.signum() {
        1 => format!("+{magnitude}"),
        -1 => format!("-{magnitude}"),
        _ => magnitude,
    }
}

/// A growth rate in bytes per minute, signed: "+1.5 MiB/min", "0 B/min".
/// A rate that is not a finite number prints as "n/a".
pub fn format_bytes_per_min(rate: f64) -> String {
    if !rate.is_finite() {
        return "n/a".into();
    }
    // `as` saturates at the i64 range, which is far beyond any real rate.
    format!("{}/min", format_signed_bytes(rate.round() as i64))
}

/// A count with thousands separators: "1,234,567".
pub fn format_count(count: u64) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A duration for people: "12.0s" below a minute, "1m 30s", "2h 5m 0s".
pub fn format_duration(d: Duration) -> String {
    let tenths = (d.as_nanos() + 50_000_000) / 100_000_000;
    if tenths < 600 {
        return format!("{}.{}s", tenths / 10, tenths % 10);
    }
    let secs = (d.as_nanos() + NANOS_PER_SEC / 2) / NANOS_PER_SEC;
    let (hours, minutes, seconds) = (secs / 3600, secs / 60 % 60, secs % 60);
    if hours > 0 {
        format!("{hours}h {minutes}m {seconds}s")
    } else {
        format!("{minutes}m {seconds}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_seconds_and_units() {
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("0.1s"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration(" 2 H "), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration(".5m"), Ok(Duration::from_secs(30)));
    }

    #[test]
    fn bad_durations_are_refused_with_a_clear_message() {
        assert_eq!(
            parse_duration(""),
            Err(UnitError::Empty {
                quantity: Quantity::Duration
            })
        );
        assert!(matches!(
            parse_duration("-5s"),
            Err(UnitError::Negative { .. })
        ));
        let zero = parse_duration("0ms").unwrap_err();
        assert_eq!(zero, UnitError::ZeroDuration { text: "0ms".into() });
        assert!(zero.to_string().contains("greater than zero"));
        let unknown = parse_duration("10d").unwrap_err();
        assert!(matches!(unknown, UnitError::UnknownUnit { ref unit, .. } if unit == "d"));
        let message = unknown.to_string();
        assert!(message.contains("\"10d\""), "{message}");
        assert!(message.contains("\"500ms\""), "{message}");
        for text in ["s", ".", "1.2.3", "1e3", "nan", "+5"] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
        assert!(matches!(
            parse_duration("99999999999999999999999h"),
            Err(UnitError::TooLarge { .. })
        ));
    }

    #[test]
    fn sizes_binary_decimal_and_bare() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("2MiB"), Ok(2 << 20));
        assert_eq!(parse_size("2mib"), Ok(2 << 20));
        assert_eq!(parse_size("2M"), Ok(2 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("500KB"), Ok(500_000));
        assert_eq!(parse_size("500kb"), Ok(500_000));
        assert_eq!(parse_size("5MB"), Ok(5_000_000));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert_eq!(parse_size("12B"), Ok(12));
        assert_eq!(parse_size("3 GB"), Ok(3_000_000_000));
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
    }

    #[test]
    fn bad_sizes_are_refused_with_a_clear_message() {
        let message = parse_size("5 parsecs").unwrap_err().to_string();
        assert!(message.contains("\"5 parsecs\""), "{message}");
        assert!(
            message.contains("KiB") && message.contains("500KB"),
            "{message}"
        );
        assert!(matches!(parse_size("-1"), Err(UnitError::Negative { .. })));
        assert!(matches!(parse_size("  "), Err(UnitError::Empty { .. })));
        assert!(matches!(parse_size("MiB"), Err(UnitError::Invalid { .. })));
        assert!(matches!(
            parse_size("18446744073709551616"),
            Err(UnitError::TooLarge { .. })
        ));
        assert!(matches!(
            parse_size("20000000TiB"),
            Err(UnitError::TooLarge { .. })
        ));
    }

    #[test]
    fn bytes_print_in_binary_units() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1024), "1.0 KiB");
        assert_eq!(format_bytes(1536 * 1024), "1.5 MiB");
        assert_eq!(format_bytes((1 << 20) - 1), "1.0 MiB");
        assert_eq!(format_bytes(u64::MAX), "16.0 EiB");
        assert_eq!(format_signed_bytes(-512), "-512 B");
        assert_eq!(format_signed_bytes(2048), "+2.0 KiB");
        assert_eq!(format_signed_bytes(0), "0 B");
        assert_eq!(format_signed_bytes(i64::MIN), "-8.0 EiB");
        assert_eq!(format_bytes_per_min(1572864.4), "+1.5 MiB/min");
        assert_eq!(format_bytes_per_min(-10.0), "-10 B/min");
        assert_eq!(format_bytes_per_min(f64::NAN), "n/a");
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(format_count(0), "0");
        assert_eq!(format_count(999), "999");
        assert_eq!(format_count(1000), "1,000");
        assert_eq!(format_count(1234567), "1,234,567");
    }

    #[test]
    fn durations_print_for_people() {
        assert_eq!(format_duration(Duration::from_secs(12)), "12.0s");
        assert_eq!(format_duration(Duration::from_millis(250)), "0.3s");
        assert_eq!(format_duration(Duration::from_millis(59_960)), "1m 0s");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m 30s");
        assert_eq!(format_duration(Duration::from_secs(7505)), "2h 5m 5s");
    }

    #[test]
    fn formatting_and_parsing_agree() {
        let text = format_duration(parse_duration("90").unwrap());
        assert_eq!(text, "1m 30s");
        assert_eq!(format_bytes(parse_size("1.5MiB").unwrap()), "1.5 MiB");
    }
}
