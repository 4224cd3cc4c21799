//! GitHub Actions workflow commands: one `::error file=F,line=L,col=C,endLine=,endColumn=,
//! title=T::message` line per finding, shown as annotations on the pull request. Values are
//! escaped as the runner requires (`%`, CR, LF in the message; also `:` and `,` in properties).

use crate::engine::Findings;

fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn write(w: &mut dyn std::io::Write, findings: &Findings) -> std::io::Result<()> {
    for f in findings {
        let mut message = f.message.to_string();
        if let Some(h) = &f.help {
            message.push_str("\nhelp: ");
            message.push_str(&h.text());
        }
        writeln!(
            w,
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            super::levels(f.severity).1,
            property(&f.path),
            f.line,
            f.column,
            f.end_line,
            f.end_column,
            property(&format!("obsgate {}", f.check)),
            data(&message)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(data("a%b\nc\r"), "a%25b%0Ac%0D");
        assert_eq!(property("x: y, z"), "x%3A y%2C z");
    }
}
