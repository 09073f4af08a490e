//! The JSON report itself (docs/report-schema.md), pretty printed.

use super::ExportError;
use crate::report::Report;

/// The report as pretty JSON with a final newline, as `leakspy record` writes it.
pub fn render(report: &Report) -> Result<String, ExportError> {
    let mut json = serde_json::to_string_pretty(report).map_err(ExportError::Json)?;
    json.push('\n');
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::test_report::sample_report;

    #[test]
    fn it_reads_back_strictly() {
        let json = render(&sample_report()).unwrap();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sample_report());
        assert!(json.ends_with("}\n"));
    }
}
