//! A plain table of strings, rendered as aligned text for the terminal or
//! as a Markdown table for BENCHMARKS.md. The benchmark's tables are built
//! once and rendered both ways.

/// A header row and rows of cells; the leading text columns (row names,
/// one unless told) are left-aligned, the others right-aligned (figures).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    text_columns: usize,
}

impl Table {
    pub fn new(header: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Table {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
            text_columns: 1,
        }
    }

    /// Makes the first `count` columns left-aligned text.
    pub fn with_text_columns(mut self, count: usize) -> Self {
        self.text_columns = count;
        self
    }

    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Aligned columns separated by two spaces, a dashed line under the
    /// header, one line per row, each ending in a newline.
    pub fn to_text(&self) -> String {
        let widths = self.widths();
        let mut text = String::new();
        let line = |cells: &[String], text: &mut String| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(column, (cell, &width))| pad(cell, width, column < self.text_columns))
                .collect();
            text.push_str(padded.join("  ").trim_end());
            text.push('\n');
        };
        line(&self.header, &mut text);
        let dashes: Vec<String> = widths.iter().map(|&width| "-".repeat(width)).collect();
        line(&dashes, &mut text);
        for row in &self.rows {
            line(row, &mut text);
        }
        text
    }

    /// A GitHub-flavoured Markdown table; `|` in a cell is escaped.
    pub fn to_markdown(&self) -> String {
        let line = |cells: &[String]| {
            let escaped: Vec<String> = cells.iter().map(|cell| cell.replace('|', "\\|")).collect();
            format!("| {} |\n", escaped.join(" | "))
        };
        let mut markdown = line(&self.header);
        let alignments: Vec<String> = (0..self.header.len())
            .map(|column| {
                if column < self.text_columns {
                    "---"
                } else {
                    "---:"
                }
                .to_string()
            })
            .collect();
        markdown.push_str(&format!("|{}|\n", alignments.join("|")));
        for row in &self.rows {
            markdown.push_str(&line(row));
        }
        markdown
    }

    /// The widest cell of each column, in characters.
    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self
            .header
            .iter()
            .map(|cell| cell.chars().count())
            .collect();
        for row in &self.rows {
            for (column, cell) in row.iter().enumerate() {
                let width = cell.chars().count();
                match widths.get_mut(column) {
                    Some(widest) => *widest = (*widest).max(width),
                    None => widths.push(width),
                }
            }
        }
        widths
    }
}

fn pad(cell: &str, width: usize, left: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(cell.chars().count()));
    if left {
        format!("{cell}{fill}")
    } else {
        format!("{fill}{cell}")
    }
}

#[cfg(test)]
mod tests {
    use super::Table;

    fn sample() -> Table {
        let mut table = Table::new(["mode", "churn"]);
        table.push(vec!["uninstrumented".into(), "1.00×".into()]);
        table.push(vec!["memray | native".into(), "12.5×".into()]);
        table
    }

    #[test]
    fn text_aligns_names_left_and_figures_right() {
        assert_eq!(
            sample().to_text(),
            "mode             churn\n\
             ---------------  -----\n\
             uninstrumented   1.00×\n\
             memray | native  12.5×\n"
        );
    }

    #[test]
    fn leading_text_columns_align_left() {
        let mut table = Table::new(["workload", "mode", "ratio"]).with_text_columns(2);
        table.push(vec!["churn".into(), "growth".into(), "1.0×".into()]);
        table.push(vec![
            "json_requests".into(),
            "memray".into(),
            "12.5×".into(),
        ]);
        assert_eq!(
            table.to_text(),
            "workload       mode    ratio\n\
             -------------  ------  -----\n\
             churn          growth   1.0×\n\
             json_requests  memray  12.5×\n"
        );
        assert!(table.to_markdown().contains("|---|---|---:|\n"));
    }

    #[test]
    fn markdown_right_aligns_figures_and_escapes_pipes() {
        assert_eq!(
            sample().to_markdown(),
            "| mode | churn |\n\
             |---|---:|\n\
             | uninstrumented | 1.00× |\n\
             | memray \\| native | 12.5× |\n"
        );
    }
}
